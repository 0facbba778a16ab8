// Contract suite for session limits: the expiry sweep (SessionStore.endExpired, single-winner across nodes), revoke
// reasons, capping an organization's open sessions, and OrgStore.setSessionLimits.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/databases.js';
import { T0, newSession, unique, type StoreContext } from './contract-fixtures.js';
import type { Session } from '../../src/domain/types.js';

const M = 60_000;
const H = 60 * M;
const DEFAULTS = { idleMs: 24 * H, absoluteMs: 7 * 24 * H };

for (const backend of backends()) {
  describe(`${backend.name}: session limits`, () => {
    let context: StoreContext;
    before(async () => {
      context = await backend.create();
    });
    after(async () => {
      await context.dispose();
    });

    async function newUserId(orgId: string | null = null): Promise<string> {
      const user = await context.store.users.create({ email: `${unique('u')}@example.test`, passwordHash: null, orgId }, T0);
      return user.id;
    }

    /** endExpired is store-wide: ends every session left open by earlier tests so each test sees only its own. */
    async function drain(): Promise<void> {
      while ((await context.store.sessions.endExpired(T0 * 10, { idleMs: 1, absoluteMs: 1 }, 500)).length > 0);
    }

    async function create(...sessions: Session[]): Promise<void> {
      for (const s of sessions) await context.store.sessions.create(s);
    }

    const ids = (sessions: Session[]) => sessions.map((s) => s.id).sort();

    describe('endExpired', () => {
      it('ends idle and absolute sessions with the right reason, absolute winning when both apply', async () => {
        const { store } = context;
        await drain();
        const userId = await newUserId();
        const now = T0 + 8 * 24 * H;
        // Absolute: created 8 days ago, seen a minute ago.
        const absolute = newSession(userId, { createdAt: T0, lastSeenAt: now - M });
        // Idle: created 2 days ago, last seen 25 hours ago.
        const idle = newSession(userId, { createdAt: now - 48 * H, lastSeenAt: now - 25 * H });
        // Both: created 8 days ago, last seen 5 days ago.
        const both = newSession(userId, { createdAt: T0, lastSeenAt: T0 + 3 * 24 * H });
        // Exactly at the idle limit: ended (the limit instant is already expired).
        const atLimit = newSession(userId, { createdAt: now - 24 * H, lastSeenAt: now - 24 * H });
        const fresh = newSession(userId, { createdAt: now - H, lastSeenAt: now - M });
        const justUnder = newSession(userId, { createdAt: now - 24 * H + 1, lastSeenAt: now - 24 * H + 1 });
        await create(absolute, idle, both, atLimit, fresh, justUnder);

        const ended = await store.sessions.endExpired(now, DEFAULTS, 100);
        assert.deepEqual(ids(ended), ids([absolute, idle, both, atLimit]));
        const reasons = new Map(ended.map((s) => [s.id, s.endReason]));
        assert.equal(reasons.get(absolute.id), 'absolute');
        assert.equal(reasons.get(idle.id), 'idle');
        assert.equal(reasons.get(both.id), 'absolute', 'absolute wins when both apply');
        assert.equal(reasons.get(atLimit.id), 'idle');
        for (const s of ended) {
          assert.equal(s.revokedAt, now, 'returned sessions carry the new revokedAt');
          assert.equal(typeof s.revokedAt, 'number');
          assert.equal(typeof s.createdAt, 'number');
          assert.deepEqual(await store.sessions.findById(s.id), s, 'the returned session is what is stored');
        }
        assert.equal((await store.sessions.findById(fresh.id))?.revokedAt, null);
        assert.equal((await store.sessions.findById(justUnder.id))?.revokedAt, null);
        assert.deepEqual(await store.sessions.endExpired(now, DEFAULTS, 100), [], 'a second sweep finds nothing');
      });

      it("uses each row's own limits over the defaults", async () => {
        const { store } = context;
        await drain();
        const userId = await newUserId();
        const now = T0 + 2 * H;
        // Default limits would keep both; their own shorter limits end them.
        const ownIdle = newSession(userId, { createdAt: T0, lastSeenAt: T0 + H, idleMs: 30 * M, absoluteMs: 8 * H });
        const ownAbsolute = newSession(userId, { createdAt: T0, lastSeenAt: now - M, absoluteMs: 2 * H });
        // A longer own limit than the defaults is honoured too (the row decides): kept though the default would end it.
        const ownLonger = newSession(userId, { createdAt: T0, lastSeenAt: T0, idleMs: 3 * H, absoluteMs: 3 * H });
        const defaultsOnly = newSession(userId, { createdAt: T0, lastSeenAt: T0 + H });
        await create(ownIdle, ownAbsolute, ownLonger, defaultsOnly);

        const ended = await store.sessions.endExpired(now, { idleMs: 90 * M, absoluteMs: 24 * H }, 100);
        assert.deepEqual(ids(ended), ids([ownIdle, ownAbsolute]));
        assert.equal(ended.find((s) => s.id === ownIdle.id)?.endReason, 'idle');
        assert.equal(ended.find((s) => s.id === ownAbsolute.id)?.endReason, 'absolute');
        const idleRow = ended.find((s) => s.id === ownIdle.id);
        assert.equal(idleRow?.idleMs, 30 * M);
        assert.equal(idleRow?.absoluteMs, 8 * H);
        assert.equal((await store.sessions.findById(ownLonger.id))?.revokedAt, null);
        assert.equal((await store.sessions.findById(defaultsOnly.id))?.revokedAt, null);
      });

      it('leaves already revoked sessions alone (revokedAt and reason unchanged)', async () => {
        const { store } = context;
        await drain();
        const userId = await newUserId();
        const loggedOut = newSession(userId, { createdAt: T0, lastSeenAt: T0 });
        await create(loggedOut);
        assert.equal(await store.sessions.revoke(loggedOut.id, T0 + M, 'logout'), true);
        assert.deepEqual(await store.sessions.endExpired(T0 + 30 * 24 * H, DEFAULTS, 100), []);
        const stored = await store.sessions.findById(loggedOut.id);
        assert.equal(stored?.revokedAt, T0 + M);
        assert.equal(stored?.endReason, 'logout');
      });

      it('ends at most `limit` sessions per call, oldest activity first', async () => {
        const { store } = context;
        await drain();
        const userId = await newUserId();
        const sessions = Array.from({ length: 5 }, (_, i) => newSession(userId, { createdAt: T0, lastSeenAt: T0 + i * M }));
        await create(...sessions);
        const now = T0 + 48 * H;
        const first = await store.sessions.endExpired(now, DEFAULTS, 2);
        assert.deepEqual(ids(first), ids(sessions.slice(0, 2)));
        const second = await store.sessions.endExpired(now, DEFAULTS, 2);
        assert.deepEqual(ids(second), ids(sessions.slice(2, 4)));
        const third = await store.sessions.endExpired(now, DEFAULTS, 2);
        assert.deepEqual(ids(third), ids(sessions.slice(4)));
        assert.deepEqual(await store.sessions.endExpired(now, DEFAULTS, 2), []);
      });

      it('two concurrent sweeps end every expired session exactly once', async () => {
        // Threat: several nodes sweeping at once must not report (and log, and notify about) one expiry twice.
        const { store } = context;
        await drain();
        const userId = await newUserId();
        const sessions = Array.from({ length: 20 }, () => newSession(userId, { createdAt: T0, lastSeenAt: T0 }));
        await create(...sessions);
        const now = T0 + 48 * H;
        const [a, b] = await Promise.all([store.sessions.endExpired(now, DEFAULTS, 100), store.sessions.endExpired(now, DEFAULTS, 100)]);
        const seenA = new Set(a.map((s) => s.id));
        assert.equal(b.filter((s) => seenA.has(s.id)).length, 0, 'no session is reported by both');
        assert.deepEqual([...ids(a), ...ids(b)].sort(), ids(sessions));
        for (const s of [...a, ...b]) assert.equal(s.endReason, 'idle');
      });
    });

    describe('revoke reasons', () => {
      it('stores the reason; a second revoke returns false and keeps the first reason', async () => {
        const { store } = context;
        const userId = await newUserId();
        const session = newSession(userId);
        const plain = newSession(userId);
        await create(session, plain);
        assert.equal(await store.sessions.revoke(session.id, T0 + 1_000, 'logout'), true);
        assert.equal(await store.sessions.revoke(session.id, T0 + 2_000, 'revoked'), false);
        const stored = await store.sessions.findById(session.id);
        assert.equal(stored?.endReason, 'logout');
        assert.equal(stored?.revokedAt, T0 + 1_000);
        assert.equal(await store.sessions.revoke(plain.id, T0 + 1_000), true);
        assert.equal((await store.sessions.findById(plain.id))?.endReason, 'revoked', "the default reason is 'revoked'");
      });

      it("revokeAllForUser records 'revoked' on the sessions it ends only", async () => {
        const { store } = context;
        const userId = await newUserId();
        const earlier = newSession(userId);
        const open = newSession(userId);
        await create(earlier, open);
        await store.sessions.revoke(earlier.id, T0, 'logout');
        assert.equal(await store.sessions.revokeAllForUser(userId, T0 + 1), 1);
        assert.equal((await store.sessions.findById(open.id))?.endReason, 'revoked');
        assert.equal((await store.sessions.findById(earlier.id))?.endReason, 'logout');
      });
    });

    describe('capLimitsForOrg', () => {
      it("only shortens, and only the organization's members' open sessions", async () => {
        const { store } = context;
        const org = await store.orgs.create(unique('Org'), T0);
        const other = await store.orgs.create(unique('Other'), T0);
        const member = await newUserId(org.id);
        const outsider = await newUserId(other.id);
        const loner = await newUserId(null);
        const inherits = newSession(member);
        const longer = newSession(member, { idleMs: 12 * H, absoluteMs: 5 * 24 * H });
        const shorter = newSession(member, { idleMs: 30 * M, absoluteMs: 2 * H });
        const mixed = newSession(member, { idleMs: 30 * M, absoluteMs: 5 * 24 * H });
        const ended = newSession(member);
        const otherOrg = newSession(outsider);
        const noOrg = newSession(loner);
        await create(inherits, longer, shorter, mixed, ended, otherOrg, noOrg);
        await store.sessions.revoke(ended.id, T0);

        const count = await store.sessions.capLimitsForOrg(org.id, { idleMs: H, absoluteMs: 24 * H });
        assert.equal(count, 3, 'inherits, longer and mixed change; shorter already fits; ended is closed');
        assert.equal(typeof count, 'number');
        const limits = async (s: Session) => {
          const row = await store.sessions.findById(s.id);
          return [row?.idleMs, row?.absoluteMs];
        };
        assert.deepEqual(await limits(inherits), [H, 24 * H]);
        assert.deepEqual(await limits(longer), [H, 24 * H]);
        assert.deepEqual(await limits(shorter), [30 * M, 2 * H], 'a shorter own limit is kept');
        assert.deepEqual(await limits(mixed), [30 * M, 24 * H]);
        assert.deepEqual(await limits(ended), [null, null], 'closed sessions are left alone');
        assert.deepEqual(await limits(otherOrg), [null, null], "another organization's sessions are untouched");
        assert.deepEqual(await limits(noOrg), [null, null]);

        assert.equal(await store.sessions.capLimitsForOrg(org.id, { idleMs: 2 * H, absoluteMs: 48 * H }), 0, 'never lengthens');
        assert.deepEqual(await limits(inherits), [H, 24 * H]);
        assert.equal(await store.sessions.capLimitsForOrg(unique('no-org'), { idleMs: M, absoluteMs: M }), 0);
      });
    });

    describe('OrgStore.setSessionLimits', () => {
      it('round-trips, clears with nulls, and returns false for an unknown id', async () => {
        const { store } = context;
        const org = await store.orgs.create(unique('Limits'), T0);
        assert.equal(org.sessionIdleMs, null);
        assert.equal(org.sessionAbsoluteMs, null);
        assert.deepEqual(await store.orgs.findById(org.id), org);

        assert.equal(await store.orgs.setSessionLimits(org.id, { idleMs: 8 * H, absoluteMs: 3 * 24 * H }), true);
        const set = await store.orgs.findById(org.id);
        assert.equal(set?.sessionIdleMs, 8 * H);
        assert.equal(set?.sessionAbsoluteMs, 3 * 24 * H);
        assert.equal(typeof set?.sessionIdleMs, 'number');
        assert.deepEqual(await store.orgs.findByName(org.name), set);
        assert.deepEqual((await store.orgs.list()).find((o) => o.id === org.id), set);

        assert.equal(await store.orgs.setSessionLimits(org.id, { idleMs: 30 * M, absoluteMs: null }), true);
        assert.deepEqual(await store.orgs.findById(org.id), { ...org, sessionIdleMs: 30 * M, sessionAbsoluteMs: null });
        assert.equal(await store.orgs.setSessionLimits(org.id, { idleMs: null, absoluteMs: null }), true);
        assert.deepEqual(await store.orgs.findById(org.id), org);

        assert.equal(await store.orgs.setSessionLimits(unique('missing'), { idleMs: H, absoluteMs: H }), false);
      });
    });

    it('session limits and end reason round-trip through create and findById as numbers', async () => {
      const { store } = context;
      const userId = await newUserId();
      const limited = newSession(userId, { idleMs: 8 * H, absoluteMs: 30 * 24 * H });
      const ended = newSession(userId, { revokedAt: T0 + 5, endReason: 'absolute', idleMs: null, absoluteMs: 24 * H });
      await create(limited, ended);
      const found = await store.sessions.findById(limited.id);
      assert.deepEqual(found, limited);
      assert.equal(typeof found?.idleMs, 'number');
      assert.equal(typeof found?.absoluteMs, 'number');
      assert.deepEqual(await store.sessions.findById(ended.id), ended);
      assert.deepEqual(await store.sessions.listActiveForUser(userId), [limited]);
    });
  });
}
