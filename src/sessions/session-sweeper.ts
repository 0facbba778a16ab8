// Ends sessions past their limits (writing session_expired_idle / session_expired_absolute) and tells the apps of
// every ended session, whatever ended it. Safe on several nodes: the store hands each session to one caller.
import type { Clock } from '../domain/clock.js';
import type { EventStore, SessionStore } from '../store/store.js';
import { limitsFor, sessionExpiry, type SessionLimits } from './session-policy.js';

export interface SweepDeps {
  sessions: SessionStore;
  events: EventStore;
  clock: Clock;
  limits: SessionLimits;
  /** Sends back-channel logout tokens and ends the apps' grants; returns how many tokens were delivered. */
  notifyApps(sessionId: string): Promise<number>;
}

export interface SweepResult {
  expired: number;
  notified: number;
}

export async function sweepSessions(deps: SweepDeps, batch = 200): Promise<SweepResult> {
  const now = deps.clock.now();
  const ended = await deps.sessions.endExpired(now, { idleMs: deps.limits.idleMs, absoluteMs: deps.limits.absoluteMs }, batch);
  for (const session of ended) {
    const expiry = sessionExpiry(session, limitsFor(session, deps.limits));
    const absolute = session.endReason === 'absolute';
    await deps.events.append(
      {
        code: absolute ? 'session_expired_absolute' : 'session_expired_idle',
        outcome: 'info',
        userId: session.userId,
        ip: session.ip,
        userAgent: session.userAgent,
        reason: absolute ? 'absolute_limit' : 'idle_limit',
        details: { ended_at: absolute ? expiry.absoluteExpiresAt : expiry.idleExpiresAt, started_at: session.createdAt, last_activity_at: session.lastSeenAt },
      },
      now,
    );
  }
  let notified = 0;
  for (const session of await deps.sessions.claimEndedForNotice(now, batch)) notified += await deps.notifyApps(session.id);
  return { expired: ended.length, notified };
}
