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
