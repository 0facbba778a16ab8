// Forgotten password and reset by email link. The request answers the same for every address.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError, isPortcullisError } from '../../domain/errors.js';
import type { AccountDeps } from '../../account/account-deps.js';
import { completePasswordReset, inspectResetLink, requestPasswordReset } from '../../account/password-reset.js';
import { confirmEmailChange } from '../../account/account-changes.js';
import { inspectLink } from '../../links/link-tokens.js';
import { limitPerIpPerMinute } from '../per-ip-limit.js';
import type { Csrf } from '../csrf.js';
import { formField } from '../form.js';
import { normaliseIp } from '../client-ip.js';
import { checkEmailPage, confirmLinkPage, forgotPage, resetPage } from '../views/account-pages.js';
import { messagePage } from '../views/pages.js';
import { CAPTCHA_TEXT, imageRoute } from './signup.js';
import { linkConfirmHandler, linkProblemPage, sendHtml } from '../link-pages.js';
import type { BotGuard } from '../../protection/bot/bot-guard.js';
import { checkHuman, formProtection } from '../human-check.js';

type TokenRequest = FastifyRequest<{ Params: { token: string } }>;

export function passwordRoutes(deps: { account: AccountDeps; csrf: Csrf; productName: string; resetPerIpPerMinute: number; bot: BotGuard | null }) {
  const { account, csrf, productName } = deps;
  const context = (request: FastifyRequest) => ({ ip: normaliseIp(request.ip), userAgent: request.headers['user-agent'] ?? null });
  const forgotLink = { href: '/password/forgot', label: 'Request a new link' };

  return async (app: FastifyInstance): Promise<void> => {
    const render = async (request: FastifyRequest, reply: FastifyReply, status: number, extra: { error?: string | null; notice?: string | null; email?: string } = {}, withChallenge = false) => {
      const csrfToken = csrf.issue(request, reply, 'forgot');
      const protection = await formProtection(deps.bot, request, 'reset', account.clock.now(), withChallenge, '/password/forgot/captcha/image');
      return sendHtml(reply, status, forgotPage({ productName, csrfToken, ...protection, ...extra }));
    };
    app.get('/password/forgot', async (request, reply) => render(request, reply, 200));
    app.get('/password/forgot/captcha/image', async (request, reply) => imageRoute(deps.bot, account, request, reply, 'reset'));

    app.post('/password/forgot', async (request, reply) => {
      csrf.verify(request, 'forgot');
      const now = account.clock.now();
      await limitPerIpPerMinute(account.store, request, reply, { name: 'reset', perMinute: deps.resetPerIpPerMinute, now, message: 'Too many reset requests from your network. Wait a minute and try again.' });
      const email = formField(request.body, 'email', { max: 320, label: 'Email' }).trim();
      const human = await checkHuman(deps.bot, account.store.events, request, 'reset', email.toLowerCase(), now);
      if (!human.ok) return render(request, reply, 401, { email, ...(human.failed ? { error: CAPTCHA_TEXT.wrong } : { notice: CAPTCHA_TEXT.required }) }, true);
      try {
        await requestPasswordReset(account, email, context(request));
      } catch (error) {
        if (isPortcullisError(error) && error.code === 'invalid_input') {
          return render(request, reply, 400, { error: error.publicMessage, email });
        }
        throw error;
      }
      return sendHtml(reply, 200, checkEmailPage(productName, `If ${email} belongs to an account, we have sent it a link to reset the password. The link works once, for 1 hour.`));
    });

    app.get('/password/reset/:token', async (request: TokenRequest, reply) => {
      const check = await inspectResetLink(account, request.params.token);
      if (!check.ok) return sendHtml(reply, 410, linkProblemPage(productName, check.reason, forgotLink));
      return sendHtml(reply, 200, resetPage({ productName, csrfToken: csrf.issue(request, reply, 'link'), action: `/password/reset/${request.params.token}` }));
    });

    app.post('/password/reset/:token', async (request: TokenRequest, reply) => {
      csrf.verify(request, 'link');
      const password = formField(request.body, 'password', { max: 1024, label: 'New password' });
      const result = await completePasswordReset(account, request.params.token, password, context(request));
      if (!result.ok) {
        if (result.reason === 'weak_password') {
          return sendHtml(reply, 400, resetPage({ productName, csrfToken: csrf.issue(request, reply, 'link'), action: `/password/reset/${request.params.token}`, error: result.message }));
        }
        return sendHtml(reply, 410, linkProblemPage(productName, result.reason, forgotLink));
      }
      return sendHtml(reply, 200, messagePage(productName, 'Password changed', 'Your new password is saved and you have been signed out everywhere. Sign in again with the new password.', { href: '/account', label: 'Sign in' }));
    });

    app.get(
      '/email/change/:token',
      linkConfirmHandler(
        { links: account.store.links, clock: account.clock, csrf, productName },
        {
          purpose: 'change_email',
          action: (token) => `/email/change/${token}`,
          title: 'Confirm your new email',
          explain: (link) => `Use ${String(link.data.newEmail)} as the email address of your account.`,
          button: 'Confirm new email',
          next: { href: '/account', label: 'Go to your account' },
        },
      ),
    );

    app.post('/email/change/:token', async (request: TokenRequest, reply) => {
      csrf.verify(request, 'link');
      const result = await confirmEmailChange(account, request.params.token, context(request));
      if (!result.ok) {
        if (result.reason === 'taken') return sendHtml(reply, 409, messagePage(productName, 'Address in use', 'Another account uses this address now, so your email was not changed.'));
        return sendHtml(reply, 410, linkProblemPage(productName, result.reason, { href: '/account', label: 'Go to your account' }));
      }
      return sendHtml(reply, 200, messagePage(productName, 'Email changed', 'Your account now uses the new address. We told the old address about the change.', { href: '/account', label: 'Go to your account' }));
    });
  };
}
