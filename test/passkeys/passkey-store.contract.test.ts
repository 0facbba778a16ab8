// Contract suite for PasskeyStore and the WebAuthn challenge store, run on every backend.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/databases.js';
import { PortcullisError } from '../../src/domain/errors.js';
import { createChallengeStore } from '../../src/authn/webauthn-challenges.js';
import { newUser, passkeyRow, T0 } from './fixtures.js';

const RACERS = 20;

for (const backend of backends()) {
  describe(`${backend.name}: PasskeyStore`, () => {
    let context: Awaited<ReturnType<typeof backend.create>>;
    before(async () => {
      context = await backend.create();
    });
    after(async () => {
      await context.dispose();
    });

    it('add then read back every field exactly, by credential id and per user (oldest first)', async () => {
      const { store } = context;
      const user = await newUser(store);
      const first = passkeyRow(user.id, { createdAt: T0, transports: ['usb', 'nfc'], backupEligible: false, backedUp: false, deviceType: 'singleDevice', counter: 7 });
      const second = passkeyRow(user.id, { createdAt: T0 + 1_000, lastUsedAt: T0 + 2_000, name: 'Work laptop' });
      assert.equal(await store.passkeys.add(second, 20), 'added');
      assert.equal(await store.passkeys.add(first, 20), 'added');
      assert.deepEqual(await store.passkeys.findByCredentialId(first.credentialId), first);
      assert.deepEqual(await store.passkeys.listForUser(user.id), [first, second]);
      assert.equal(await store.passkeys.countForUser(user.id), 2);
      assert.equal(await store.passkeys.findByCredentialId('nope'), null);
      assert.deepEqual(await store.passkeys.listForUser('nobody'), []);
      assert.equal(await store.passkeys.countForUser('nobody'), 0);
    });

    it('a credential id is unique across users: the second add is a conflict', async () => {
      const { store } = context;
      const alice = await newUser(store);
      const mallory = await newUser(store);
      const row = passkeyRow(alice.id);
      await store.passkeys.add(row, 20);
      await assert.rejects(store.passkeys.add({ ...row, id: 'other-id', userId: mallory.id }, 20), (e: unknown) => e instanceof PortcullisError && e.code === 'conflict');
      assert.equal((await store.passkeys.findByCredentialId(row.credentialId))?.userId, alice.id);
    });

    it('add refuses past the per-user limit, also when many adds race', async () => {
      const { store } = context;
      const user = await newUser(store);
      for (let i = 0; i < 3; i++) assert.equal(await store.passkeys.add(passkeyRow(user.id), 5), 'added');
      const results = await Promise.all(Array.from({ length: RACERS }, () => store.passkeys.add(passkeyRow(user.id), 5)));
      assert.equal(results.filter((r) => r === 'added').length, 2, 'exactly the two free slots are taken');
      assert.equal(await store.passkeys.countForUser(user.id), 5);
      const other = await newUser(store);
      assert.equal(await store.passkeys.add(passkeyRow(other.id), 5), 'added', 'the limit is per user');
    });

    it('updateAfterUse only moves the counter forward and records backup state and last use', async () => {
      const { store } = context;
      const user = await newUser(store);
      const row = passkeyRow(user.id, { counter: 5, backedUp: false });
      await store.passkeys.add(row, 20);
      assert.equal(await store.passkeys.updateAfterUse(row.credentialId, { counter: 6, backedUp: true, lastUsedAt: T0 + 10 }), true);
      let stored = await store.passkeys.findByCredentialId(row.credentialId);
      assert.deepEqual([stored?.counter, stored?.backedUp, stored?.lastUsedAt], [6, true, T0 + 10]);
      for (const counter of [6, 5, 0]) {
        assert.equal(await store.passkeys.updateAfterUse(row.credentialId, { counter, backedUp: false, lastUsedAt: T0 + 20 }), false, `counter ${counter} after 6`);
      }
      stored = await store.passkeys.findByCredentialId(row.credentialId);
      assert.deepEqual([stored?.counter, stored?.backedUp, stored?.lastUsedAt], [6, true, T0 + 10], 'a refused update changes nothing');
      assert.equal(await store.passkeys.updateAfterUse('unknown', { counter: 9, backedUp: false, lastUsedAt: T0 }), false);
    });

    it('updateAfterUse: authenticators that never count stay at 0 and still record each use', async () => {
      const { store } = context;
      const user = await newUser(store);
      const row = passkeyRow(user.id, { counter: 0 });
      await store.passkeys.add(row, 20);
      assert.equal(await store.passkeys.updateAfterUse(row.credentialId, { counter: 0, backedUp: true, lastUsedAt: T0 + 1 }), true);
      assert.equal(await store.passkeys.updateAfterUse(row.credentialId, { counter: 0, backedUp: true, lastUsedAt: T0 + 2 }), true);
      assert.equal((await store.passkeys.findByCredentialId(row.credentialId))?.lastUsedAt, T0 + 2);
    });

    it('of concurrent uses carrying the same counter exactly one applies', async () => {
      const { store } = context;
      const user = await newUser(store);
      const row = passkeyRow(user.id, { counter: 1 });
      await store.passkeys.add(row, 20);
      const results = await Promise.all(Array.from({ length: RACERS }, () => store.passkeys.updateAfterUse(row.credentialId, { counter: 2, backedUp: true, lastUsedAt: T0 })));
      assert.equal(results.filter(Boolean).length, 1);
    });

    it('rename and remove are scoped to the owner', async () => {
      const { store } = context;
      const alice = await newUser(store);
      const mallory = await newUser(store);
      const row = passkeyRow(alice.id);
      await store.passkeys.add(row, 20);
      assert.equal(await store.passkeys.rename(mallory.id, row.credentialId, 'pwned'), false);
      assert.equal(await store.passkeys.remove(mallory.id, row.credentialId), false);
      assert.equal((await store.passkeys.findByCredentialId(row.credentialId))?.name, row.name);
      assert.equal(await store.passkeys.rename(alice.id, row.credentialId, 'Phone'), true);
      assert.equal((await store.passkeys.findByCredentialId(row.credentialId))?.name, 'Phone');
      assert.equal(await store.passkeys.remove(alice.id, row.credentialId), true);
      assert.equal(await store.passkeys.remove(alice.id, row.credentialId), false);
      assert.equal(await store.passkeys.findByCredentialId(row.credentialId), null);
    });
  });

  describe(`${backend.name}: WebAuthn challenge store`, () => {
    let context: Awaited<ReturnType<typeof backend.create>>;
    before(async () => {
      context = await backend.create();
    });
    after(async () => {
      await context.dispose();
    });

    it('take returns the challenge and its data once; a replay gets nothing', async () => {
      const challenges = createChallengeStore(context.store.oidc);
      await challenges.put('login:tx-1:abc', 'abc', { userId: 'u1' }, 60_000, T0);
      assert.deepEqual(await challenges.take('login:tx-1:abc', T0 + 1), { challenge: 'abc', data: { userId: 'u1' } });
      assert.equal(await challenges.take('login:tx-1:abc', T0 + 2), null);
      assert.equal(await challenges.take('login:tx-1:unknown', T0), null);
    });

    it('an expired challenge cannot be taken', async () => {
      const challenges = createChallengeStore(context.store.oidc);
      await challenges.put('login:tx-2:def', 'def', {}, 60_000, T0);
      assert.equal(await challenges.take('login:tx-2:def', T0 + 60_000), null);
    });

    it(`of ${RACERS} concurrent takes exactly one wins`, async () => {
      const challenges = createChallengeStore(context.store.oidc);
      await challenges.put('register:s-1:ghi', 'ghi', {}, 60_000, T0);
      const results = await Promise.all(Array.from({ length: RACERS }, () => challenges.take('register:s-1:ghi', T0)));
      assert.equal(results.filter((r) => r !== null).length, 1);
    });
  });
}
