// The per-process client cache (src/store/sql/sql-clients.ts): a client changed by another process (the CLI, another
// node) is served at most CLIENT_CACHE_MS old; a change through the same store is seen at once; unknown ids are never
// remembered. End to end: a client deleted or given a new secret by another process stops working at the token
// endpoint within the bound, and at once when the change goes through the app's own store. Real databases, no mocks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { addApiClient } from '../../src/admin/clients.js';
import type { ClientRecord } from '../../src/domain/types.js';
import { generateClientSecret, hashClientSecret } from '../../src/oidc/client-secrets.js';
import { openDatabase, type SqlDatabase } from '../../src/store/sql/database.js';
import { CLIENT_CACHE_MS, sqlClientStore } from '../../src/store/sql/sql-clients.js';
import type { Database } from '../../src/store/sql/schema.js';
import { createSqlStore } from '../../src/store/sql/sql-store.js';
import type { ClientStore, Store } from '../../src/store/store.js';
import { backends, TEST_SEAL_KEY } from '../helpers/databases.js';
import { appBackends, type BackendApp } from '../helpers/protection.js';
import { T0, unique, type StoreContext } from '../store/contract-fixtures.js';

function newClient(overrides: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: unique('cached'),
    metadata: { redirect_uris: ['https://app.example.test/cb'], grant_types: ['authorization_code'], token_endpoint_auth_method: 'none', client_name: 'Before' },
    firstParty: false,
    createdAt: T0,
    ...overrides,
  };
}

/** A second connection to the same database, as another process (the CLI, another node) has. */
function otherConnection(databaseUrl: string, dataDir: string): SqlDatabase {
  return openDatabase({ databaseUrl, dataDir });
}

for (const backend of backends()) {
  describe(`client cache (${backend.name})`, () => {
    let context: StoreContext;
    let connection: SqlDatabase;
    let db: Kysely<Database>;
    let clock = 0;
    /** The cached store under test, on its own connection, with a clock the test moves. */
    let cached: ClientStore;
    /** Another process's view of the same database: its changes never reach `cached` except through SQL. */
    let other: Store;
    before(async () => {
      context = await backend.create();
      connection = otherConnection(context.databaseUrl, context.dataDir);
      db = connection.db;
      cached = sqlClientStore(db, { maxAgeMs: 1_000, now: () => clock });
      other = context.store;
    });
    after(async () => {
      await connection.close();
      await context.dispose();
    });

    it('serves a client changed elsewhere for less than the bound, then the change', async () => {
      const client = newClient();
      await other.clients.create(client);
      clock = 10_000;
      assert.equal((await cached.find(client.clientId))?.metadata.client_name, 'Before');
      await other.clients.upsert({ ...client, metadata: { ...client.metadata, client_name: 'After' } });
      clock = 10_999;
      assert.equal((await cached.find(client.clientId))?.metadata.client_name, 'Before', 'within the bound the cached record may be served');
      clock = 11_000;
      assert.equal((await cached.find(client.clientId))?.metadata.client_name, 'After', 'at the bound the change is read');
    });

    it('a client deleted elsewhere is gone once the bound has passed', async () => {
      const client = newClient();
      await other.clients.create(client);
      clock = 20_000;
      assert.ok(await cached.find(client.clientId));
      await db.deleteFrom('clients').where('client_id', '=', client.clientId).execute();
      clock = 21_000;
      assert.equal(await cached.find(client.clientId), null);
    });

    it('a change through the same store is seen at once, even one made while a read is in flight', async () => {
      const client = newClient();
      await cached.create(client);
      clock = 30_000;
      assert.equal((await cached.find(client.clientId))?.metadata.client_name, 'Before');
      await cached.upsert({ ...client, metadata: { ...client.metadata, client_name: 'Local' } });
      assert.equal((await cached.find(client.clientId))?.metadata.client_name, 'Local');
      clock = 30_500;
      const inFlight = cached.find(client.clientId);
      const change = cached.upsert({ ...client, metadata: { ...client.metadata, client_name: 'Later' } });
      await Promise.all([inFlight, change]);
      assert.equal((await cached.find(client.clientId))?.metadata.client_name, 'Later');
    });

    it('an unknown client id is not remembered: a client added elsewhere works at once', async () => {
      const client = newClient();
      clock = 40_000;
      assert.equal(await cached.find(client.clientId), null);
      await other.clients.create(client);
      assert.equal((await cached.find(client.clientId))?.clientId, client.clientId);
    });

    it('concurrent lookups share one read, and the shared record cannot be changed by a caller', async () => {
      const client = newClient();
      await other.clients.create(client);
      clock = 50_000;
      const [a, b] = await Promise.all([cached.find(client.clientId), cached.find(client.clientId)]);
      assert.equal(a, b);
      assert.throws(() => {
        (a as ClientRecord).metadata.client_name = 'Mutated';
      }, TypeError);
      assert.throws(() => {
        ((a as ClientRecord).metadata.redirect_uris as string[]).push('https://evil.example/cb');
      }, TypeError);
    });

    it('maxAgeMs 0 turns the cache off', async () => {
      const uncached = sqlClientStore(db, { maxAgeMs: 0, now: () => clock });
      const client = newClient();
      await other.clients.create(client);
      assert.equal((await uncached.find(client.clientId))?.metadata.client_name, 'Before');
      await other.clients.upsert({ ...client, metadata: { ...client.metadata, client_name: 'After' } });
      assert.equal((await uncached.find(client.clientId))?.metadata.client_name, 'After');
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of appBackends()) {
  describe(`token endpoint after a client change (${backend.name})`, () => {
    let ctx: BackendApp;
    /** What the CLI or another node would use: its own store on the same database. */
    let elsewhere: Store;
    before(async () => {
      ctx = await backend.create();
      const { config } = ctx.app;
      elsewhere = createSqlStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sealKey: TEST_SEAL_KEY });
    });
    after(async () => {
      await elsewhere.close();
      await ctx.dispose();
    });

    async function clientCredentials(clientId: string, secret: string): Promise<number> {
      const response = await ctx.app.server.inject({
        method: 'POST',
        url: '/oidc/token',
        headers: {
          host: 'localhost:3000',
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        },
        payload: 'grant_type=client_credentials&scope=users%3Aread',
      });
      return response.statusCode;
    }

    /** Repeats the request until it is refused; returns how long that took (ms). */
    async function refusedWithin(clientId: string, secret: string): Promise<number> {
      const started = Date.now();
      while ((await clientCredentials(clientId, secret)) === 200) {
        assert.ok(Date.now() - started < CLIENT_CACHE_MS + 1_000, `still accepted ${Date.now() - started} ms after the change`);
        await sleep(50);
      }
      return Date.now() - started;
    }

    it('a client deleted by another process is refused within the bound', async () => {
      const clientId = unique('api-del');
      const { secret } = await addApiClient(ctx.app.store, ctx.app.clock, { clientId, scopes: ['users:read'] });
      assert.equal(await clientCredentials(clientId, secret), 200);
      const connection = otherConnection(ctx.app.config.databaseUrl, ctx.app.config.dataDir);
      try {
        await connection.db.deleteFrom('clients').where('client_id', '=', clientId).execute();
      } finally {
        await connection.close();
      }
      await refusedWithin(clientId, secret);
      // And it stays refused.
      await sleep(CLIENT_CACHE_MS + 100);
      assert.equal(await clientCredentials(clientId, secret), 401);
    });

    it('a secret replaced by another process: the old one is refused within the bound, the new one works', async () => {
      const clientId = unique('api-rot');
      const { client, secret } = await addApiClient(ctx.app.store, ctx.app.clock, { clientId, scopes: ['users:read'] });
      assert.equal(await clientCredentials(clientId, secret), 200);
      const next = generateClientSecret();
      await elsewhere.clients.upsert({ ...client, metadata: { ...client.metadata, client_secret: hashClientSecret(next) } });
      await refusedWithin(clientId, secret);
      assert.equal(await clientCredentials(clientId, next), 200);
    });

    it('a secret replaced through the app itself takes effect at once', async () => {
      const clientId = unique('api-local');
      const { client, secret } = await addApiClient(ctx.app.store, ctx.app.clock, { clientId, scopes: ['users:read'] });
      assert.equal(await clientCredentials(clientId, secret), 200);
      const next = generateClientSecret();
      await ctx.app.store.clients.upsert({ ...client, metadata: { ...client.metadata, client_secret: hashClientSecret(next) } });
      assert.equal(await clientCredentials(clientId, secret), 401);
      assert.equal(await clientCredentials(clientId, next), 200);
    });

    it('a client that loses the grant elsewhere is refused within the bound', async () => {
      const clientId = unique('api-grant');
      const { client, secret } = await addApiClient(ctx.app.store, ctx.app.clock, { clientId, scopes: ['users:read'] });
      assert.equal(await clientCredentials(clientId, secret), 200);
      await elsewhere.clients.upsert({ ...client, metadata: { ...client.metadata, grant_types: ['authorization_code'], redirect_uris: ['https://app.example.test/cb'], response_types: ['code'] } });
      await refusedWithin(clientId, secret);
    });
  });
}
