import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sessionExpiry, sessionState, shouldRecordActivity } from './session-policy.js';
import type { Session } from '../domain/types.js';

const H = 3_600_000;
const limits = { idleMs: 24 * H, absoluteMs: 168 * H, touchEveryMs: 60_000 };
const session = (createdAt: number, lastSeenAt: number, revokedAt: number | null = null): Session => ({
  id: 'i', secretHash: 'h', userId: 'u', createdAt, lastSeenAt, ip: null, userAgent: null, revokedAt, idleMs: null, absoluteMs: null, endReason: null,
});

describe('session policy', () => {
  it('idle limit follows activity but never passes the absolute limit', () => {
    assert.deepEqual(sessionExpiry(session(0, 0), limits), { idleExpiresAt: 24 * H, absoluteExpiresAt: 168 * H, expiresAt: 24 * H });
    assert.equal(sessionExpiry(session(0, 160 * H), limits).expiresAt, 168 * H);
  });

  it('reports why a session ended', () => {
    assert.equal(sessionState(session(0, 0), limits, 23 * H).active, true);
    assert.deepEqual(sessionState(session(0, 0), limits, 24 * H), { active: false, reason: 'idle' });
    assert.deepEqual(sessionState(session(0, 167 * H), limits, 168 * H), { active: false, reason: 'absolute' });
    assert.deepEqual(sessionState(session(0, 0, 5), limits, 10), { active: false, reason: 'revoked' });
  });

  it('writes activity at most once a minute', () => {
    assert.equal(shouldRecordActivity(session(0, 0), limits, 59_999), false);
    assert.equal(shouldRecordActivity(session(0, 0), limits, 60_000), true);
  });
});
