// RP-initiated logout also ends the Portcullis browser session and records a logout event, before the response is sent.
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/store.js';
import type { SessionService } from '../sessions/session-service.js';
import { SESSION_COOKIE } from './routes/interaction.js';

export function logoutHook(provider: Provider, deps: { sessions: SessionService; store: Store; clock: Clock; logger: Logger }): void {
  provider.on('end_session.success', (ctx) => {
    ctx.state.portcullisLogout = { accountId: ctx.oidc.session?.accountId ?? null, clientId: ctx.oidc.client?.clientId ?? null };
  });
  // Koa runs this after the provider's handler but before the response goes out, so the revocation is done when the browser moves on.
  provider.use(async (ctx, next) => {
    await next();
    const logout = ctx.state.portcullisLogout as { accountId: string | null; clientId: string | null } | undefined;
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
  });
}
