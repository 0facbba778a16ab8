// Pure session lifetime rules: idle and absolute limits, and how often activity is written.
import type { Session } from '../domain/types.js';

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
  /** Activity is written at most this often per session. */
  touchEveryMs: number;
}

export interface SessionExpiry {
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  expiresAt: number;
}

export function sessionExpiry(session: Pick<Session, 'createdAt' | 'lastSeenAt'>, limits: SessionLimits): SessionExpiry {
  const absoluteExpiresAt = session.createdAt + limits.absoluteMs;
  const idleExpiresAt = Math.min(session.lastSeenAt + limits.idleMs, absoluteExpiresAt);
  return { idleExpiresAt, absoluteExpiresAt, expiresAt: Math.min(idleExpiresAt, absoluteExpiresAt) };
}

export type SessionState = { active: true; expiry: SessionExpiry } | { active: false; reason: 'revoked' | 'idle' | 'absolute' };

export function sessionState(session: Session, limits: SessionLimits, now: number): SessionState {
  if (session.revokedAt !== null) return { active: false, reason: 'revoked' };
  const expiry = sessionExpiry(session, limits);
  if (now >= expiry.absoluteExpiresAt) return { active: false, reason: 'absolute' };
  if (now >= expiry.idleExpiresAt) return { active: false, reason: 'idle' };
  return { active: true, expiry };
}

export function shouldRecordActivity(session: Session, limits: SessionLimits, now: number): boolean {
  return now - session.lastSeenAt >= limits.touchEveryMs;
}

/** A session's own limits (set at creation from its organization) or the deployment's. */
export function limitsFor(session: Pick<Session, 'idleMs' | 'absoluteMs'>, defaults: SessionLimits): SessionLimits {
  return { idleMs: session.idleMs ?? defaults.idleMs, absoluteMs: session.absoluteMs ?? defaults.absoluteMs, touchEveryMs: defaults.touchEveryMs };
}

/** The limits a new session gets: the organization's, but never longer than the deployment's. */
export function limitsForNewSession(defaults: SessionLimits, org: { sessionIdleMs: number | null; sessionAbsoluteMs: number | null } | null): { idleMs: number; absoluteMs: number } {
  return {
    idleMs: Math.min(defaults.idleMs, org?.sessionIdleMs ?? Infinity),
    absoluteMs: Math.min(defaults.absoluteMs, org?.sessionAbsoluteMs ?? Infinity),
  };
}
