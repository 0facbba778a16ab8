// Test backends: a fresh SQLite file per store, and a fresh PostgreSQL database when PORTCULLIS_TEST_DATABASE_URL is set.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createSqlStore } from '../../src/store/sql/sql-store.js';
import type { Store } from '../../src/store/store.js';

export const TEST_SEAL_KEY = Buffer.alloc(32, 7);

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A migrated, empty store plus its connection settings. Call dispose() when done. */
  create(): Promise<{ store: Store; databaseUrl: string; dataDir: string; dispose(): Promise<void> }>;
}

export function postgresUrl(): string | null {
  const url = process.env.PORTCULLIS_TEST_DATABASE_URL;
  if (!url && process.env.CI === 'true') {
    throw new Error('CI=true but PORTCULLIS_TEST_DATABASE_URL is not set: PostgreSQL tests must run in CI.');
  }
  return url || null;
}

/** Creates an empty database on the test server and returns its URL and a drop function. */
export async function createPostgresDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `portcullis_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export function backends(): Backend[] {
  const list: Backend[] = [
    {
      name: 'sqlite',
      async create() {
        const dataDir = mkdtempSync(join(tmpdir(), 'pc-store-'));
        const store = createSqlStore({ databaseUrl: '', dataDir, sealKey: TEST_SEAL_KEY });
        await store.migrate();
        return {
          store,
          databaseUrl: '',
          dataDir,
          async dispose() {
            await store.close();
            rmSync(dataDir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
  const base = postgresUrl();
  if (base) {
    list.push({
      name: 'postgres',
      async create() {
        const database = await createPostgresDatabase(base);
        const dataDir = mkdtempSync(join(tmpdir(), 'pc-store-'));
        const store = createSqlStore({ databaseUrl: database.url, dataDir, sealKey: TEST_SEAL_KEY });
        await store.migrate();
        return {
          store,
          databaseUrl: database.url,
          dataDir,
          async dispose() {
            await store.close();
            await database.drop();
            rmSync(dataDir, { recursive: true, force: true });
          },
        };
      },
    });
  }
  return list;
}
