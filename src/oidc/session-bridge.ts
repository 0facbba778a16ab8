// Ties the tokens apps hold to the Portcullis session behind them: an ended session (idle, absolute, logout) means no
// new tokens from its codes or refresh tokens, and no token outlives it. Also makes SSO require a live session.
import type Provider from 'oidc-provider';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Session } from '../domain/types.js';
import type { SessionState } from '../sessions/session-policy.js';
import type { SessionLinks } from './session-link.js';

export interface BridgeSessions {
  /** The session for a cookie value, without recording activity; null for unknown or forged values. */
  peek(token: string | undefined): Promise<{ session: Session; state: SessionState } | null>;
  findById(id: string): Promise<{ session: Session; state: SessionState } | null>;
}

export interface SessionBridgeDeps {
  sessions: BridgeSessions;
  links: SessionLinks;
  clock: Clock;
  logger: Logger;
  cookieName: string;
}

interface KnownEnd {
  expiresAt: number;
  absoluteExpiresAt: number;
  seenAt: number;
}

type TokenLike = { sessionUid?: string } | undefined;

export interface SessionBridge {
  /** Login-prompt check: an OIDC session counts only while its Portcullis session (this browser's cookie) is active. */
  loginCheck: InstanceType<typeof interactionPolicy.Check>;
  /** Caps a token lifetime (seconds) at the end of its session: `expiresAt` for access and ID tokens, `absolute` for refresh tokens. */
  capTtl(ctx: KoaContextWithOIDC | undefined, token: unknown, seconds: number, until: 'expires' | 'absolute'): number;
  /** The absolute end (epoch seconds) of the session behind a code or refresh token, for the ID token claim. */
  absoluteEndOf(token: unknown): number | null;
  /** Links OIDC sessions after each authorization and refuses codes and refresh tokens of ended sessions. */
  install(provider: Provider): void;
}

const MAX_REMEMBERED = 10_000;

export function createSessionBridge(deps: SessionBridgeDeps): SessionBridge {
  const { clock } = deps;
  // Session ends looked up earlier in the same token request; token lifetimes are computed synchronously.
  const known = new Map<string, KnownEnd>();

  function remember(uid: string, state: SessionState): void {
    if (!state.active) return;
    if (known.size >= MAX_REMEMBERED) {
      for (const [key, value] of known) if (value.seenAt < clock.now() - 60_000 || known.size >= MAX_REMEMBERED) known.delete(key);
    }
    known.set(uid, { expiresAt: state.expiry.expiresAt, absoluteExpiresAt: state.expiry.absoluteExpiresAt, seenAt: clock.now() });
  }

  function sessionUidOf(ctx: KoaContextWithOIDC | undefined, token: unknown): string | undefined {
    const own = (token as TokenLike)?.sessionUid;
    if (own) return own;
    const entities = ctx?.oidc?.entities as { AuthorizationCode?: TokenLike; RefreshToken?: TokenLike } | undefined;
    return entities?.AuthorizationCode?.sessionUid ?? entities?.RefreshToken?.sessionUid;
  }

  /** 'unlinked' for sessions from before this bridge (or client credentials): they keep the plain lifetimes. */
  async function stateOf(oidcUid: string): Promise<SessionState | 'unlinked'> {
    const sessionId = await deps.links.sessionIdFor(oidcUid, clock.now());
    if (!sessionId) return 'unlinked';
    const found = await deps.sessions.findById(sessionId);
    return found ? found.state : { active: false, reason: 'revoked' };
  }

  // With prompt=none the app gets login_required, as for no session at all.
  const loginCheck = new interactionPolicy.Check('portcullis_session', 'The Portcullis session ended or belongs to someone else', 'login_required', async (ctx) => {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const found = await deps.sessions.peek(ctx.cookies.get(deps.cookieName) ?? undefined);
    const live = found !== null && found.state.active && found.session.userId === accountId;
    return live ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
  });

  return {
    loginCheck,

    capTtl(ctx, token, seconds, until) {
      const uid = sessionUidOf(ctx, token);
      const end = uid ? known.get(uid) : undefined;
      if (!end) return seconds;
      const remainingMs = (until === 'absolute' ? end.absoluteExpiresAt : end.expiresAt) - clock.now();
      return Math.max(1, Math.min(seconds, Math.floor(remainingMs / 1000)));
    },

    absoluteEndOf(token) {
      const uid = (token as TokenLike)?.sessionUid;
      const end = uid ? known.get(uid) : undefined;
      return end ? Math.floor(end.absoluteExpiresAt / 1000) : null;
    },

    install(provider) {
      // A code or refresh token whose session has ended is treated as unknown: the grant fails with invalid_grant.
      for (const Model of [provider.RefreshToken, provider.AuthorizationCode] as unknown as { find: (...args: unknown[]) => Promise<TokenLike> }[]) {
        const original = Model.find.bind(Model);
        Model.find = async (...args: unknown[]) => {
          const token = await original(...args);
          if (!token?.sessionUid) return token;
          const state = await stateOf(token.sessionUid);
          if (state === 'unlinked') return token;
          if (!state.active) return undefined;
          remember(token.sessionUid, state);
          return token;
        };
      }

      provider.use(async (ctx, next) => {
        await next();
        const oidc = (ctx as unknown as KoaContextWithOIDC).oidc;
        if (!oidc || (oidc.route !== 'authorization' && oidc.route !== 'resume')) return;
        const session = oidc.session;
        if (!session?.accountId || !session.uid) return;
        try {
          const found = await deps.sessions.peek(ctx.cookies.get(deps.cookieName) ?? undefined);
          if (!found || !found.state.active || found.session.userId !== session.accountId) return;
          await deps.links.link(session.uid, found.session.id, found.state.expiry.absoluteExpiresAt, clock.now());
        } catch (error) {
          deps.logger.error({ err: error }, 'could not link the OIDC session to the Portcullis session');
        }
      });
    },
  };
}
