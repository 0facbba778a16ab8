// Portcullis browser sessions: `id.secret` cookie tokens, only the secret's hash stored; idle and absolute limits
// from the deployment, or the organization's shorter ones, fixed on the session when it starts.
import type { Clock } from '../domain/clock.js';
import type { Session } from '../domain/types.js';
import { createToken, parseToken, secretMatches } from '../crypto/tokens.js';
import type { SessionStore } from '../store/store.js';
import { limitsFor, limitsForNewSession, sessionState, shouldRecordActivity, type SessionLimits, type SessionState } from './session-policy.js';

export interface ResolvedSession {
  session: Session;
  state: SessionState;
}

export interface SessionService {
  readonly limits: SessionLimits;
  /** `orgId`: the user's organization when the caller has the user at hand (saves reading it again). */
  create(userId: string, context: { ip: string | null; userAgent: string | null; orgId?: string | null }): Promise<{ token: string; session: Session }>;
  /** Returns the active session for a cookie value, recording activity when it is due (hosted pages are activity). */
  resolve(token: string | undefined): Promise<Session | null>;
  /** The session for a cookie value and its state, recording nothing: polling the status never extends a session. */
  peek(token: string | undefined): Promise<ResolvedSession | null>;
  findById(id: string): Promise<ResolvedSession | null>;
  /** Real user activity reported by the SDK: extends the idle limit (never past the absolute one), written at most once a minute. */
  recordActivity(token: string | undefined): Promise<ResolvedSession | null>;
  /** Ends the session of a cookie value (logout); returns it when this call ended it. */
  revokeToken(token: string | undefined, reason?: string): Promise<Session | null>;
  stateOf(session: Session): SessionState;
}

/** An organization's own limits, if it has any; `orgId` when known (null: no organization), else read from the user. */
export type OrgLimitsOf = (userId: string, orgId?: string | null) => Promise<{ sessionIdleMs: number | null; sessionAbsoluteMs: number | null } | null>;

export function createSessionService(sessions: SessionStore, clock: Clock, limits: SessionLimits, orgLimitsOf: OrgLimitsOf = async () => null): SessionService {
  async function lookup(token: string | undefined): Promise<Session | null> {
    const parts = parseToken(token);
    if (!parts) return null;
    const session = await sessions.findById(parts.id);
    if (!session || !secretMatches(parts.secret, session.secretHash)) return null;
    return session;
  }
  const stateOf = (session: Session): SessionState => sessionState(session, limitsFor(session, limits), clock.now());

  async function touchIfDue(session: Session): Promise<Session> {
    const now = clock.now();
    if (!shouldRecordActivity(session, limits, now)) return session;
    await sessions.touch(session.id, now);
    return { ...session, lastSeenAt: now };
  }

  return {
    limits,
    stateOf,
    async create(userId, context) {
      const now = clock.now();
      const { token, id, secretHash } = createToken();
      const own = limitsForNewSession(limits, await orgLimitsOf(userId, context.orgId));
      const session: Session = {
        id,
        secretHash,
        userId,
        createdAt: now,
        lastSeenAt: now,
        ip: context.ip,
        userAgent: context.userAgent ? context.userAgent.slice(0, 512) : null,
        revokedAt: null,
        // Stored only when shorter than the deployment's, so a later change of the deployment's limits still applies.
        idleMs: own.idleMs < limits.idleMs ? own.idleMs : null,
        absoluteMs: own.absoluteMs < limits.absoluteMs ? own.absoluteMs : null,
        endReason: null,
      };
      await sessions.create(session);
      return { token, session };
    },
    async resolve(token) {
      const session = await lookup(token);
      if (!session || !stateOf(session).active) return null;
      return touchIfDue(session);
    },
    async peek(token) {
      const session = await lookup(token);
      return session ? { session, state: stateOf(session) } : null;
    },
    async findById(id) {
      const session = await sessions.findById(id);
      return session ? { session, state: stateOf(session) } : null;
    },
    async recordActivity(token) {
      const session = await lookup(token);
      if (!session) return null;
      if (!stateOf(session).active) return { session, state: stateOf(session) };
      const touched = await touchIfDue(session);
      return { session: touched, state: stateOf(touched) };
    },
    async revokeToken(token, reason = 'logout') {
      const session = await lookup(token);
      if (!session) return null;
      return (await sessions.revoke(session.id, clock.now(), reason)) ? session : null;
    },
  };
}
