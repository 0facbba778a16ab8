// Contract suite for EventStore and OidcModelStore (the oidc-provider adapter's backing store).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/databases.js';
import { T0, unique, type StoreContext } from './contract-fixtures.js';

const RACERS = 20;
const HOUR = 3_600_000;

for (const backend of backends()) {
  describe(backend.name, () => {
    let context: StoreContext;
    before(async () => {
      context = await backend.create();
    });
    after(async () => {
      await context.dispose();
    });

    describe('EventStore', () => {
      it('append returns the event with a fresh id, the given time and null/empty defaults', async () => {
        const { store } = context;
        const first = await store.events.append({ code: 'logout', outcome: 'info' }, T0);
        assert.equal(typeof first.id, 'string');
        assert.ok(first.id.length > 0);
        assert.deepEqual(first, {
          id: first.id,
          at: T0,
          code: 'logout',
          userId: null,
          identifier: null,
          ip: null,
          userAgent: null,
          clientId: null,
          outcome: 'info',
          reason: null,
          details: {},
        });
        const second = await store.events.append({ code: 'logout', outcome: 'info' }, T0);
        assert.notEqual(second.id, first.id);
      });

      it('list returns stored events exactly, newest first, filtered by userId and capped by limit', async () => {
        const { store } = context;
        const userId = unique('user');
        const appended = [];
        for (let i = 0; i < 3; i++) {
          appended.push(
            await store.events.append(
              {
                code: 'login_failed_password',
                outcome: 'failure',
                userId,
                identifier: 'victim@example.test',
                ip: '198.51.100.4',
                userAgent: 'ua',
                clientId: 'app',
                reason: 'wrong_password',
                details: { attempt: i, nested: { ok: true } },
              },
              T0 + i * 1_000,
            ),
          );
        }
        await store.events.append({ code: 'login_success', outcome: 'success', userId: unique('someone-else') }, T0 + 5_000);

        const listed = await store.events.list({ userId, limit: 10 });
        assert.deepEqual(listed, [...appended].reverse());
        assert.ok(listed.every((e) => typeof e.at === 'number'));

        const limited = await store.events.list({ userId, limit: 2 });
        assert.deepEqual(limited.map((e) => e.id), [appended[2]!.id, appended[1]!.id]);

        const everyone = await store.events.list({ limit: 1 });
        assert.equal(everyone.length, 1);
        assert.equal(everyone[0]?.code, 'login_success', 'without userId the newest event overall comes first');
      });
    });

    describe('OidcModelStore', () => {
      it('upsert then find returns payload, expiresAt and consumedAt', async () => {
        const { store } = context;
        const id = unique('code');
        const payload = { accountId: 'acc-1', scope: 'openid email', claims: { email: null }, n: 3 };
        await store.oidc.upsert('AuthorizationCode', id, payload, T0 + HOUR);
        const found = await store.oidc.find('AuthorizationCode', id, T0);
        assert.deepEqual(found, { payload, expiresAt: T0 + HOUR, consumedAt: null });
        assert.equal(await store.oidc.find('AccessToken', id, T0), null, 'ids are scoped by model');
        assert.equal(await store.oidc.find('AuthorizationCode', unique('missing'), T0), null);
      });

      it('upserting the same id again replaces the payload and expiry', async () => {
        const { store } = context;
        const id = unique('grant');
        await store.oidc.upsert('Grant', id, { accountId: 'a', openid: { scope: 'openid' } }, T0 + HOUR);
        await store.oidc.upsert('Grant', id, { accountId: 'a', rejected: true }, T0 + 2 * HOUR);
        assert.deepEqual(await store.oidc.find('Grant', id, T0), {
          payload: { accountId: 'a', rejected: true },
          expiresAt: T0 + 2 * HOUR,
          consumedAt: null,
        });
      });

      it('find returns null once expiresAt is reached; a null expiry never expires', async () => {
        // Threat: an expired code or token must not be usable, even before the sweeper deletes it.
        const { store } = context;
        const id = unique('at');
        await store.oidc.upsert('AccessToken', id, { accountId: 'a' }, T0 + HOUR);
        assert.notEqual(await store.oidc.find('AccessToken', id, T0 + HOUR - 1), null);
        assert.equal(await store.oidc.find('AccessToken', id, T0 + HOUR), null);
        assert.equal(await store.oidc.find('AccessToken', id, T0 + 2 * HOUR), null);

        const forever = unique('client');
        await store.oidc.upsert('Client', forever, { client_id: forever }, null);
        assert.deepEqual(await store.oidc.find('Client', forever, T0 + 1_000 * HOUR), {
          payload: { client_id: forever },
          expiresAt: null,
          consumedAt: null,
        });
      });

      it('findByUid finds by payload.uid within the model and honours expiry', async () => {
        const { store } = context;
        const uid = unique('uid');
        await store.oidc.upsert('Session', unique('sess'), { uid, accountId: 'a' }, T0 + HOUR);
        assert.deepEqual((await store.oidc.findByUid('Session', uid, T0))?.payload, { uid, accountId: 'a' });
        assert.equal(await store.oidc.findByUid('Interaction', uid, T0), null);
        assert.equal(await store.oidc.findByUid('Session', uid, T0 + HOUR), null);
        assert.equal(await store.oidc.findByUid('Session', unique('missing'), T0), null);
      });

      it('findByUserCode finds by payload.userCode within the model and honours expiry', async () => {
        const { store } = context;
        const userCode = unique('ABCD-EFGH');
        await store.oidc.upsert('DeviceCode', unique('dc'), { userCode, clientId: 'tv' }, T0 + HOUR);
        assert.deepEqual((await store.oidc.findByUserCode('DeviceCode', userCode, T0))?.payload, { userCode, clientId: 'tv' });
        assert.equal(await store.oidc.findByUserCode('Session', userCode, T0), null);
        assert.equal(await store.oidc.findByUserCode('DeviceCode', userCode, T0 + HOUR), null);
        assert.equal(await store.oidc.findByUserCode('DeviceCode', unique('missing'), T0), null);
      });

      it('consume returns true once, then false, and find reports consumedAt', async () => {
        const { store } = context;
        const id = unique('code');
        await store.oidc.upsert('AuthorizationCode', id, { accountId: 'a' }, T0 + HOUR);
        assert.equal(await store.oidc.consume('AuthorizationCode', id, T0 + 10), true);
        assert.equal(await store.oidc.consume('AuthorizationCode', id, T0 + 20), false);
        const found = await store.oidc.find('AuthorizationCode', id, T0 + 30);
        assert.equal(found?.consumedAt, T0 + 10);
        assert.equal(typeof found?.consumedAt, 'number');
        assert.equal(await store.oidc.consume('AuthorizationCode', unique('missing'), T0), false);
      });

      it('authorization codes are consumed by exactly one caller under concurrency', async () => {
        // Threat: an intercepted authorization code redeemed in parallel must yield tokens at most once.
        const { store } = context;
        const id = unique('code');
        await store.oidc.upsert('AuthorizationCode', id, { accountId: 'a' }, T0 + HOUR);
        const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => store.oidc.consume('AuthorizationCode', id, T0 + i)));
        assert.equal(results.filter((won) => won).length, 1);
        assert.notEqual((await store.oidc.find('AuthorizationCode', id, T0 + HOUR - 1))?.consumedAt, null);
      });

      it('saveConsumed saves and claims once: a new record, an unconsumed one, and a race of many callers', async () => {
        // Threat: two requests finishing one sign-in (a double-submitted or replayed POST) both start a session.
        const { store } = context;
        const fresh = unique('flow');
        assert.equal(await store.oidc.saveConsumed('LoginFlow', fresh, { state: 'completed', n: 1 }, T0 + HOUR, T0 + 5), true, 'absent: created and claimed');
        assert.equal(await store.oidc.saveConsumed('LoginFlow', fresh, { state: 'completed', n: 2 }, T0 + HOUR, T0 + 6), false, 'second claim refused');
        const found = await store.oidc.find('LoginFlow', fresh, T0 + 7);
        assert.deepEqual(found?.payload, { state: 'completed', n: 1 }, 'the loser changes nothing');
        assert.equal(found?.consumedAt, T0 + 5);

        const saved = unique('flow');
        await store.oidc.upsert('LoginFlow', saved, { state: 'second_factor' }, T0 + HOUR);
        assert.equal(await store.oidc.saveConsumed('LoginFlow', saved, { state: 'completed' }, T0 + HOUR, T0 + 8), true, 'saved earlier, unconsumed: claimed');
        assert.deepEqual((await store.oidc.find('LoginFlow', saved, T0 + 9))?.payload, { state: 'completed' });
        // An upsert after the claim (a late step) does not reopen it.
        await store.oidc.upsert('LoginFlow', saved, { state: 'second_factor' }, T0 + HOUR);
        assert.equal(await store.oidc.saveConsumed('LoginFlow', saved, { state: 'completed' }, T0 + HOUR, T0 + 10), false);

        const raced = unique('flow');
        const results = await Promise.all(Array.from({ length: RACERS }, (_, i) => store.oidc.saveConsumed('LoginFlow', raced, { state: 'completed', racer: i }, T0 + HOUR, T0 + i)));
        assert.equal(results.filter((won) => won).length, 1);
        const winner = results.indexOf(true);
        assert.deepEqual((await store.oidc.find('LoginFlow', raced, T0 + HOUR - 1))?.payload, { state: 'completed', racer: winner }, "the winner's payload is the one kept");
      });

      it('destroy removes only the named model record', async () => {
        const { store } = context;
        const id = unique('shared-id');
        await store.oidc.upsert('AccessToken', id, { kind: 'at' }, T0 + HOUR);
        await store.oidc.upsert('RefreshToken', id, { kind: 'rt' }, T0 + HOUR);
        await store.oidc.destroy('AccessToken', id);
        assert.equal(await store.oidc.find('AccessToken', id, T0), null);
        assert.deepEqual((await store.oidc.find('RefreshToken', id, T0))?.payload, { kind: 'rt' });
        await store.oidc.destroy('AccessToken', id);
      });

      it('revokeByGrantId deletes every model carrying that grantId and nothing else', async () => {
        // Threat: revoking a grant must kill all its codes and tokens, or a leaked refresh token outlives logout.
        const { store } = context;
        const grantId = unique('grant');
        const otherGrant = unique('grant');
        const ids = { code: unique('c'), at: unique('at'), rt: unique('rt'), keep: unique('keep'), none: unique('none') };
        await store.oidc.upsert('AuthorizationCode', ids.code, { grantId }, T0 + HOUR);
        await store.oidc.upsert('AccessToken', ids.at, { grantId }, T0 + HOUR);
        await store.oidc.upsert('RefreshToken', ids.rt, { grantId }, null);
        await store.oidc.upsert('AccessToken', ids.keep, { grantId: otherGrant }, T0 + HOUR);
        await store.oidc.upsert('Session', ids.none, { uid: unique('uid') }, T0 + HOUR);

        await store.oidc.revokeByGrantId(grantId);
        assert.equal(await store.oidc.find('AuthorizationCode', ids.code, T0), null);
        assert.equal(await store.oidc.find('AccessToken', ids.at, T0), null);
        assert.equal(await store.oidc.find('RefreshToken', ids.rt, T0), null);
        assert.deepEqual((await store.oidc.find('AccessToken', ids.keep, T0))?.payload, { grantId: otherGrant });
        assert.notEqual(await store.oidc.find('Session', ids.none, T0), null);
      });

      it('revokeByGrantId follows the grantId of the latest upsert', async () => {
        const { store } = context;
        const [oldGrant, newGrant, id] = [unique('grant'), unique('grant'), unique('at')];
        await store.oidc.upsert('AccessToken', id, { grantId: oldGrant }, T0 + HOUR);
        await store.oidc.upsert('AccessToken', id, { grantId: newGrant }, T0 + HOUR);
        await store.oidc.revokeByGrantId(oldGrant);
        assert.notEqual(await store.oidc.find('AccessToken', id, T0), null);
        await store.oidc.revokeByGrantId(newGrant);
        assert.equal(await store.oidc.find('AccessToken', id, T0), null);
      });

      it('deleteExpired removes expired records only and returns the count as a number', async () => {
        const { store } = context;
        const later = T0 + 10_000 * HOUR; // beyond every expiry used by the other tests in this store
        await store.oidc.deleteExpired(later - 1);
        const ids = [unique('e1'), unique('e2'), unique('live'), unique('forever')];
        await store.oidc.upsert('AccessToken', ids[0]!, {}, later);
        await store.oidc.upsert('AccessToken', ids[1]!, {}, later - 1);
        await store.oidc.upsert('AccessToken', ids[2]!, {}, later + 1);
        await store.oidc.upsert('AccessToken', ids[3]!, {}, null);

        const deleted = await store.oidc.deleteExpired(later);
        assert.equal(typeof deleted, 'number');
        assert.equal(deleted, 2);
        assert.equal(await store.oidc.deleteExpired(later), 0);
        assert.notEqual(await store.oidc.find('AccessToken', ids[2]!, later), null);
        assert.notEqual(await store.oidc.find('AccessToken', ids[3]!, later), null);
      });
    });
  });
}
