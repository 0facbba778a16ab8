// Self-service sign-up and email verification. Responses never reveal whether an address is registered.
import { ipKey } from '../../protection/ip/ip-key.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PortcullisError, isPortcullisError } from '../../domain/errors.js';
import type { AccountDeps } from '../../account/account-deps.js';
import { confirmEmail, signUp } from '../../account/signup.js';
import { inspectLink, LINK_MESSAGES } from '../../links/link-tokens.js';
import { limitPerIpPerMinute } from '../per-ip-limit.js';
import type { Csrf } from '../csrf.js';
import { formField } from '../form.js';
import { normaliseIp } from '../client-ip.js';
import type { BotGuard } from '../../protection/bot/bot-guard.js';
import { checkHuman, formProtection, formTransaction, refreshImage } from '../human-check.js';
import { linkConfirmHandler, linkProblemPage, sendHtml } from '../link-pages.js';
import { checkEmailPage, confirmLinkPage, signupPage } from '../views/account-pages.js';
import { messagePage } from '../views/pages.js';

export interface SignupRouteDeps {
  account: AccountDeps;
  csrf: Csrf;
  productName: string;
  signupEnabled: boolean;
  signupPerIpPerMinute: number;
  bot: BotGuard | null;
}

type TokenRequest = FastifyRequest<{ Params: { token: string } }>;

export { linkProblemPage, sendHtml };

export const CAPTCHA_TEXT = {
  required: 'Please confirm you are a person first: enter the characters as displayed.',
  wrong: 'That did not match. Enter the characters as displayed in the new image, or verify another way.',
} as const;

/** New CAPTCHA image for a form's own transaction, rate-limited per browser. */
export async function imageRoute(bot: BotGuard | null, account: AccountDeps, request: FastifyRequest, reply: FastifyReply, flow: 'signup' | 'reset') {
  if (!bot || bot.mode(flow) === 'never') throw new PortcullisError('not_found');
  const now = account.clock.now();
  const perBrowser = await account.store.buckets.take(`captcha-image:${formTransaction(request, flow)}`, 10, 30_000, now);
  const perIp = perBrowser.allowed ? await account.store.buckets.take(`captcha-image-ip:${ipKey(normaliseIp(request.ip))}`, 30, 10_000, now) : perBrowser;
  if (!perIp.allowed) throw new PortcullisError('rate_limited', { message: 'Too many new images. Wait a little, then try again.' });
  return reply.header('cache-control', 'no-store').send(await refreshImage(bot, request, flow, account.clock.now()));
}

export function signupRoutes(deps: SignupRouteDeps) {
  const { account, csrf, productName } = deps;
  const context = (request: FastifyRequest) => ({ ip: normaliseIp(request.ip), userAgent: request.headers['user-agent'] ?? null });

  return async (app: FastifyInstance): Promise<void> => {
    if (deps.signupEnabled) {
      const render = async (request: FastifyRequest, reply: FastifyReply, status: number, extra: { error?: string | null; notice?: string | null; email?: string; name?: string } = {}, withChallenge = false) => {
        const csrfToken = csrf.issue(request, reply, 'signup');
        const protection = await formProtection(deps.bot, request, 'signup', account.clock.now(), withChallenge, '/signup/captcha/image');
        return sendHtml(reply, status, signupPage({ productName, csrfToken, ...protection, ...extra }));
      };
      app.get('/signup', async (request, reply) => render(request, reply, 200));
      app.get('/signup/captcha/image', async (request, reply) => imageRoute(deps.bot, account, request, reply, 'signup'));

      app.post('/signup', async (request, reply) => {
        csrf.verify(request, 'signup');
        const now = account.clock.now();
        await limitPerIpPerMinute(account.store, request, reply, {
          name: 'signup',
          perMinute: deps.signupPerIpPerMinute,
          now,
          message: 'Too many sign-ups from your network in the last minute. Wait a minute and try again.',
          event: 'signup_rate_limited',
        });
        const email = formField(request.body, 'email', { max: 320, label: 'Email' }).trim();
        const password = formField(request.body, 'password', { max: 1024, label: 'Password' });
        const name = formField(request.body, 'name', { max: 100, required: false, label: 'Name' }).trim() || null;
        const human = await checkHuman(deps.bot, account.store.events, request, 'signup', email.toLowerCase(), now);
        if (!human.ok) {
          return render(request, reply, 401, { email, name: name ?? '', ...(human.failed ? { error: CAPTCHA_TEXT.wrong } : { notice: CAPTCHA_TEXT.required }) }, true);
        }
        try {
          await signUp(account, { email, password, name }, context(request));
        } catch (error) {
          if (isPortcullisError(error) && error.code === 'invalid_input') {
            return render(request, reply, 400, { error: error.publicMessage, email, name: name ?? '' });
          }
          throw error;
        }
        return sendHtml(reply, 200, checkEmailPage(productName, `We sent an email to ${email}. Open the link in it to finish creating your account.`));
      });
    }

    app.get(
      '/email/verify/:token',
      linkConfirmHandler(
        { links: account.store.links, clock: account.clock, csrf, productName },
        {
          purpose: 'verify_email',
          action: (token) => `/email/verify/${token}`,
          title: 'Verify your email',
          explain: (link) => `Confirm that ${String(link.data.email ?? 'this address')} is your email address.`,
          button: 'Verify my email',
          next: { href: '/account', label: 'Sign in to get a new link' },
        },
      ),
    );

    app.post('/email/verify/:token', async (request: TokenRequest, reply) => {
      csrf.verify(request, 'link');
      const result = await confirmEmail(account, request.params.token, context(request));
      if (!result.ok) return sendHtml(reply, 410, linkProblemPage(productName, result.reason, { href: '/account', label: 'Sign in to get a new link' }));
      return sendHtml(reply, 200, messagePage(productName, 'Email verified', 'Your email address is verified. You can now sign in.', { href: '/account', label: 'Sign in' }));
    });
  };
}
