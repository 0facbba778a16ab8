// Contract suite for ClientStore and SigningKeyStore, including sealing of private keys at rest.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { ClientRecord } from '../../src/domain/types.js';
import { backends } from '../helpers/databases.js';
import { T0, isConflict, readSealedJwks, unique, type StoreContext } from './contract-fixtures.js';

function newClient(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: unique('client'),
    metadata: {
      redirect_uris: ['https://app.example.test/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      client_name: 'Contract App',
    },
    firstParty: false,
    createdAt: T0,
    ...overrides,
  };
}

function privateJwk(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
}

for (const backend of backends()) {
  describe(backend.name, () => {
    let context: StoreContext;
    before(async () => {
      context = await backend.create();
    });
    after(async () => {
      await context.dispose();
    });

    describe('ClientStore', () => {
      it('create then find returns the exact client', async () => {
        const { store } = context;
        const client = newClient();
        await store.clients.create(client);
        assert.deepEqual(await store.clients.find(client.clientId), client);
        assert.equal(await store.clients.find(unique('missing')), null);
      });

      it('firstParty round-trips as a boolean both ways', async () => {
        const { store } = context;
        const first = newClient({ firstParty: true });
        const third = newClient({ firstParty: false });
        await store.clients.create(first);
        await store.clients.create(third);
        assert.equal((await store.clients.find(first.clientId))?.firstParty, true);
        assert.equal((await store.clients.find(third.clientId))?.firstParty, false);
      });

      it('a duplicate client id throws conflict and leaves the original intact', async () => {
        const { store } = context;
        const client = newClient();
        await store.clients.create(client);
        await assert.rejects(store.clients.create({ ...client, metadata: { client_name: 'Impostor' }, firstParty: true }), isConflict);
        assert.deepEqual(await store.clients.find(client.clientId), client);
      });

      it('upsert creates a missing client, then replaces its metadata and firstParty', async () => {
        const { store } = context;
        const client = newClient({ firstParty: true });
        await store.clients.upsert(client);
        assert.deepEqual(await store.clients.find(client.clientId), client);

        const replacement = { redirect_uris: ['https://other.example.test/cb'], client_name: 'Renamed' };
        await store.clients.upsert({ ...client, metadata: replacement, firstParty: false });
        const found = await store.clients.find(client.clientId);
        assert.deepEqual(found?.metadata, replacement, 'metadata is replaced, not merged');
        assert.equal(found?.firstParty, false);
        assert.equal(found?.createdAt, T0);
      });

      it('list returns every client', async () => {
        const { store } = context;
        const a = newClient({ createdAt: T0 + 1 });
        const b = newClient({ createdAt: T0 + 2 });
        await store.clients.create(a);
        await store.clients.create(b);
        const listed = await store.clients.list();
        assert.deepEqual(listed.find((c) => c.clientId === a.clientId), a);
        assert.deepEqual(listed.find((c) => c.clientId === b.clientId), b);
        assert.equal(new Set(listed.map((c) => c.clientId)).size, listed.length);
      });
    });

    describe('SigningKeyStore', () => {
      it('list returns keys newest first with privateJwk round-tripped exactly', async () => {
        const { store } = context;
        const older = { kid: unique('kid-old'), alg: 'ES256', privateJwk: privateJwk(), createdAt: T0 };
        const newer = { kid: unique('kid-new'), alg: 'ES256', privateJwk: privateJwk(), createdAt: T0 + 86_400_000 };
        await store.signingKeys.add(older);
        await store.signingKeys.add(newer);
        const listed = await store.signingKeys.list();
        const ours = listed.filter((k) => k.kid === older.kid || k.kid === newer.kid);
        assert.deepEqual(ours, [newer, older]);
        const times = listed.map((k) => k.createdAt);
        assert.deepEqual(times, [...times].sort((a, b) => b - a), 'the whole list is newest first');
        assert.ok(times.every((t) => typeof t === 'number'));
      });

      it('private keys are sealed at rest: the stored column never contains the private "d" value', async () => {
        // Threat: a database dump or backup must not hand out the keys that sign ID tokens.
        const { store } = context;
        const jwk = privateJwk();
        const d = jwk.d;
        assert.equal(typeof d, 'string');
        await store.signingKeys.add({ kid: unique('kid-sealed'), alg: 'ES256', privateJwk: jwk, createdAt: T0 + 1 });
        const sealed = await readSealedJwks(context);
        assert.ok(sealed.length >= 1);
        for (const value of sealed) {
          assert.ok(!value.includes(d as string), 'private scalar is not stored in clear');
          assert.ok(!value.includes('"kty"'), 'JWK JSON is not stored in clear');
        }
      });
    });
  });
}
