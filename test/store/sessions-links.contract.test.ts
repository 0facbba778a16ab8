// Contract suite for SessionStore and LinkTokenStore, including their single-winner guarantees under concurrency.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/databases.js';
import { T0, newLink, newSession, unique, type StoreContext } from './contract-fixtures.js';

const RACERS = 20;

for (const backend of backends()) {
  describe(backend.name, () => {
    let context: StoreContext;
    before(async () => {
      context = await backend.create();
    });
    after(async () => {
      await context.dispose();
    });

    async function newUserId(): Promise<string> {
      const user = await context.store.users.create({ email: `${unique('u')}@example.test`, passwordHash: null }, T0);
      return user.id;
    }

    describe('SessionStore', () => {
      it('create then findById returns the exact session', async () => {
        const { store } = context;
        const session = newSession(await newUserId(), { ip: null, userAgent: null });
        await store.sessions.create(session);
        assert.deepEqual(await store.sessions.findById(session.id), session);
        const withClient = newSession(session.userId);
        await store.sessions.create(withClient);
        assert.deepEqual(await store.sessions.findById(withClient.id), withClient);
        assert.equal(await store.sessions.findById(unique('missing')), null);
      });

      it('touch updates lastSeenAt as a number, and is a no-op once revoked', async () => {
        const { store } = context;
        const session = newSession(await newUserId());
        await store.sessions.create(session);
        await store.sessions.touch(session.id, T0 + 30_000);
        const touched = await store.sessions.findById(session.id);
        assert.equal(touched?.lastSeenAt, T0 + 30_000);
        assert.equal(typeof touched?.lastSeenAt, 'number');
        assert.equal(touched?.createdAt, T0);

        await store.sessions.revoke(session.id, T0 + 40_000);
        await store.sessions.touch(session.id, T0 + 50_000);
        assert.equal((await store.sessions.findById(session.id))?.lastSeenAt, T0 + 30_000);
      });

      it('revoke returns true once, then false, and records revokedAt', async () => {
        const { store } = context;
        const session = newSession(await newUserId());
        await store.sessions.create(session);
        assert.equal(await store.sessions.revoke(session.id, T0 + 1_000), true);
        assert.equal(await store.sessions.revoke(session.id, T0 + 2_000), false);
        const revoked = await store.sessions.findById(session.id);
        assert.equal(revoked?.revokedAt, T0 + 1_000, 'a second revoke does not move revokedAt');
        assert.equal(typeof revoked?.revokedAt, 'number');
        assert.equal(await store.sessions.revoke(unique('missing'), T0), false);
      });

      it('sessions are revoked by exactly one caller under concurrency', async () => {
        // Threat: a logout racing another logout must not report success twice (double-counted events, double side effects).
        const { store } = context;
        const session = newSession(await newUserId());
        await store.sessions.create(session);
        const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => store.sessions.revoke(session.id, T0 + i)));
        assert.equal(results.filter((won) => won).length, 1);
        assert.notEqual((await store.sessions.findById(session.id))?.revokedAt, null);
      });

      it('revokeAllForUser revokes only that user\'s active sessions and returns the count', async () => {
        const { store } = context;
        const userId = await newUserId();
        const otherId = await newUserId();
        const sessions = [newSession(userId), newSession(userId), newSession(userId)];
        for (const s of sessions) await store.sessions.create(s);
        const other = newSession(otherId);
        await store.sessions.create(other);
        await store.sessions.revoke(sessions[0]!.id, T0);

        const count = await store.sessions.revokeAllForUser(userId, T0 + 9_000);
        assert.equal(count, 2, 'the already-revoked session is not counted');
        assert.equal(typeof count, 'number');
        assert.equal(await store.sessions.revokeAllForUser(userId, T0 + 10_000), 0);
        assert.deepEqual(await store.sessions.listActiveForUser(userId), []);
        assert.equal((await store.sessions.findById(sessions[1]!.id))?.revokedAt, T0 + 9_000);
        assert.equal((await store.sessions.findById(other.id))?.revokedAt, null, "another user's session is untouched");
      });

      it('listActiveForUser excludes revoked sessions and other users\' sessions', async () => {
        const { store } = context;
        const userId = await newUserId();
        const active = newSession(userId, { lastSeenAt: T0 + 100 });
        const revoked = newSession(userId);
        const foreign = newSession(await newUserId());
        for (const s of [active, revoked, foreign]) await store.sessions.create(s);
        await store.sessions.revoke(revoked.id, T0 + 50);
        assert.deepEqual(await store.sessions.listActiveForUser(userId), [active]);
        assert.deepEqual(await store.sessions.listActiveForUser(unique('nobody')), []);
      });
    });

    describe('LinkTokenStore', () => {
      it('create then findById returns the exact link, with data JSON round-tripped', async () => {
        const { store } = context;
        const userId = await newUserId();
        const data = { email: 'new@example.test', nested: { list: [1, 'two', null, true], n: 1.5 }, unicode: 'Zoë ✓' };
        const link = newLink({ purpose: 'reset_password', userId, data });
        await store.links.create(link);
        assert.deepEqual(await store.links.findById(link.id), link);
        const anonymous = newLink({ purpose: 'setup' });
        await store.links.create(anonymous);
        assert.deepEqual(await store.links.findById(anonymous.id), anonymous);
        assert.equal(await store.links.findById(unique('missing')), null);
      });

      it('consume returns true once, then false, and records usedAt', async () => {
        const { store } = context;
        const link = newLink();
        await store.links.create(link);
        assert.equal(await store.links.consume(link.id, T0 + 1_000), true);
        assert.equal(await store.links.consume(link.id, T0 + 2_000), false);
        const used = await store.links.findById(link.id);
        assert.equal(used?.usedAt, T0 + 1_000);
        assert.equal(typeof used?.usedAt, 'number');
        assert.equal(await store.links.consume(unique('missing'), T0), false);
      });

      it('expired links cannot be consumed', async () => {
        // Threat: an old reset link leaked from a mailbox must not work after its expiry.
        const { store } = context;
        const link = newLink({ expiresAt: T0 + 60_000 });
        await store.links.create(link);
        assert.equal(await store.links.consume(link.id, T0 + 60_000), false, 'expiry instant is already expired');
        assert.equal(await store.links.consume(link.id, T0 + 120_000), false);
        assert.equal((await store.links.findById(link.id))?.usedAt, null);
        assert.equal(await store.links.consume(link.id, T0 + 59_999), true, 'still valid just before expiry');
      });

      it('link tokens are single-use under concurrency', async () => {
        // Threat: replaying one emailed link in parallel requests must not redeem it twice.
        const { store } = context;
        const link = newLink();
        await store.links.create(link);
        const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => store.links.consume(link.id, T0 + i)));
        assert.equal(results.filter((won) => won).length, 1);
        assert.notEqual((await store.links.findById(link.id))?.usedAt, null);
      });
    });
  });
}
