// Portcullis browser sessions: `id.secret` cookie tokens, only the secret's hash stored.
import type { Clock } from '../domain/clock.js';
import type { Session } from '../domain/types.js';
import { createToken, parseToken, secretMatches } from '../crypto/tokens.js';
import type { SessionStore } from '../store/store.js';
import { sessionState, shouldRecordActivity, type SessionLimits } from './session-policy.js';

export interface SessionService {
  create(userId: string, context: { ip: string | null; userAgent: string | null }): Promise<{ token: string; session: Session }>;
  /** Returns the active session for a cookie value, recording activity when it is due. */
  resolve(token: string | undefined): Promise<Session | null>;
  revokeToken(token: string | undefined): Promise<Session | null>;
}

export function createSessionService(sessions: SessionStore, clock: Clock, limits: SessionLimits): SessionService {
  async function lookup(token: string | undefined): Promise<Session | null> {
    const parts = parseToken(token);
    if (!parts) return null;
    const session = await sessions.findById(parts.id);
    if (!session || !secretMatches(parts.secret, session.secretHash)) return null;
    return session;
  }
  return {
    async create(userId, context) {
      const now = clock.now();
      const { token, id, secretHash } = createToken();
      const session: Session = {
        id,
        secretHash,
        userId,
        createdAt: now,
        lastSeenAt: now,
        ip: context.ip,
        userAgent: context.userAgent ? context.userAgent.slice(0, 512) : null,
        revokedAt: null,
      };
      await sessions.create(session);
      return { token, session };
    },
    async resolve(token) {
      const session = await lookup(token);
      if (!session) return null;
      const now = clock.now();
      if (!sessionState(session, limits, now).active) return null;
      if (shouldRecordActivity(session, limits, now)) {
        await sessions.touch(session.id, now);
        return { ...session, lastSeenAt: now };
      }
      return session;
    },
    async revokeToken(token) {
      const session = await lookup(token);
      if (!session) return null;
      await sessions.revoke(session.id, clock.now());
      return session;
    },
  };
}
