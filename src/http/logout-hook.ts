// RP-initiated logout also ends the Portcullis browser session and records a logout event, before the response is sent.
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import type { SessionService } from '../sessions/session-service.js';
import { SESSION_COOKIE } from './routes/interaction.js';
import { allowFrames, appsOfStoredSession, frontChannelUrls, type SessionApp } from '../oidc/front-channel.js';
import { signedOutPage } from './views/pages.js';

export function logoutHook(provider: Provider, deps: { sessions: SessionService; store: Store; clock: Clock; logger: Logger; issuer: string; productName: string }): void {
  provider.on('end_session.success', (ctx) => {
    // "No, stay signed in" logs out of the asking app only: the Portcullis session (and the other apps) stay.
    if (!ctx.oidc.params?.logout) return;
    // The destroyed session object still lists its apps: their front-channel pages load on the way out.
    const apps = appsOfStoredSession({ authorizations: ctx.oidc.session?.authorizations });
    ctx.state.portcullisLogout = { accountId: ctx.oidc.session?.accountId ?? null, clientId: ctx.oidc.client?.clientId ?? null, apps };
  });
  // Koa runs this after the provider's handler but before the response goes out, so the revocation is done when the browser moves on.
  provider.use(async (ctx, next) => {
    await next();
    const logout = ctx.state.portcullisLogout as { accountId: string | null; clientId: string | null; apps: SessionApp[] } | undefined;
    if (!logout) return;
    const token = ctx.cookies.get(SESSION_COOKIE) ?? undefined;
    ctx.cookies.set(SESSION_COOKIE, null, { path: '/' });
    try {
      const session = await deps.sessions.revokeToken(token);
      const userId = session?.userId ?? logout.accountId;
      if (userId) {
        await deps.store.events.append({ code: 'logout', outcome: 'success', userId, ip: ctx.ip, clientId: logout.clientId }, deps.clock.now());
      }
    } catch (error) {
      deps.logger.error({ err: error }, 'logout bookkeeping failed');
    }
    try {
      const frames = await frontChannelUrls(provider, deps.issuer, logout.apps);
      if (frames.length === 0) return;
      // Instead of redirecting at once, a page loads every app's front-channel logout, then continues.
      const location = ctx.status >= 300 && ctx.status < 400 ? ctx.response.get('location') : '';
      ctx.status = 200;
      ctx.remove('location');
      ctx.type = 'html';
      ctx.body = signedOutPage({ productName: deps.productName, frames, continueTo: location ? { href: location, label: 'Continue' } : null });
      ctx.set('content-security-policy', allowFrames(String(ctx.res.getHeader('content-security-policy') ?? ctx.response.get('content-security-policy') ?? ''), frames));
    } catch (error) {
      deps.logger.error({ err: error }, 'front-channel logout page failed');
    }
  });
}
