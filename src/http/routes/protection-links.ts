// The Unblock link and the one-time login link. GET shows one button; only the POST acts, so mail scanners consume nothing.
import { ensureDeviceToken } from '../device-cookie.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LoginStepDeps } from '../login/login-steps.js';
import type { AccountDeps } from '../../account/account-deps.js';
import { unblockWithLink, useLoginLink } from '../../account/protection-notices.js';
import { inspectLink } from '../../links/link-tokens.js';
import type { SessionService } from '../../sessions/session-service.js';
import type { Csrf } from '../csrf.js';
import { normaliseIp } from '../client-ip.js';
import { setSessionCookie } from '../auth-session.js';
import { confirmLinkPage } from '../views/account-pages.js';
import { messagePage } from '../views/pages.js';
import { linkConfirmHandler, linkProblemPage, sendHtml } from '../link-pages.js';
import { continueLoginAtSecondFactor } from './account.js';

type TokenRequest = FastifyRequest<{ Params: { token: string } }>;

export interface ProtectionLinkDeps {
  account: AccountDeps;
  sessions: SessionService;
  csrf: Csrf;
  productName: string;
  loginLinkTtlMs: number;
  sessionCookie: { secure: boolean; maxAgeSeconds: number };
  /** The account page's sign-in steps: a user with a second factor finishes the link login there. */
  steps: LoginStepDeps;
  secureCookies: boolean;
}

export function protectionLinkRoutes(deps: ProtectionLinkDeps) {
  const { account, csrf, productName } = deps;
  const context = (request: FastifyRequest) => ({ ip: normaliseIp(request.ip), userAgent: request.headers['user-agent'] ?? null });
  const signIn = { href: '/login', label: 'Go to sign-in' };

  return async (app: FastifyInstance): Promise<void> => {
    const linkDeps = { links: account.store.links, clock: account.clock, csrf, productName };
    app.get(
      '/unblock/:token',
      linkConfirmHandler(linkDeps, {
        purpose: 'unblock',
        action: (token) => `/unblock/${token}`,
        title: 'Unblock sign-in',
        explain: (link) => `Allow sign-in to your account from ${String(link.data.ip ?? 'the blocked address')} again. Only do this if the failed attempts were yours.`,
        button: 'Unblock',
        next: signIn,
      }),
    );

    app.post('/unblock/:token', async (request: TokenRequest, reply) => {
      csrf.verify(request, 'link');
      const result = await unblockWithLink(account, { loginLinkTtlMs: deps.loginLinkTtlMs }, request.params.token, context(request));
      if (!result.ok) return sendHtml(reply, 410, linkProblemPage(productName, result.reason, signIn));
      return sendHtml(
        reply,
        200,
        messagePage(productName, 'Sign-in unblocked', 'You can sign in from that address again. We also emailed you a one-time sign-in link, in case you need it.', signIn),
      );
    });

    app.get(
      '/login-link/:token',
      linkConfirmHandler(linkDeps, {
        purpose: 'login',
        action: (token) => `/login-link/${token}`,
        title: 'Sign in',
        explain: () => 'Sign in to your account with this one-time link.',
        button: 'Sign in',
        next: signIn,
      }),
    );

    app.post('/login-link/:token', async (request: TokenRequest, reply) => {
      csrf.verify(request, 'link');
      const ctx = context(request);
      const result = await useLoginLink(account, request.params.token, ctx, (user) => deps.steps.secondFactor.enrolled(user.id));
      if (!result.ok) return sendHtml(reply, 410, linkProblemPage(productName, result.reason, signIn));
      // The link replaces the password only: an enrolled second factor is still required, on the normal sign-in steps.
      if (result.secondFactor) return reply.redirect(await continueLoginAtSecondFactor(reply, deps, result.user.id), 303);
      // Without one, the same session any password login creates.
      const { token } = await deps.sessions.create(result.user.id, { ...ctx, orgId: result.user.orgId });
      setSessionCookie(reply, token, deps.sessionCookie);
      await deps.steps.recorder?.recordLogin(result.user, {
        ip: ctx.ip ?? normaliseIp(request.ip),
        userAgent: ctx.userAgent,
        deviceToken: ensureDeviceToken(request, reply, deps.sessionCookie.secure),
        amr: ['email'],
      });
      return reply.redirect('/account', 303);
    });
  };
}
