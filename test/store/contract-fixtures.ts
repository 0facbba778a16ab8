// Record builders and raw row access shared by the store contract suites (test/store/*.contract.test.ts).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { PortcullisError } from '../../src/domain/errors.js';
import type { LinkToken, Session } from '../../src/domain/types.js';
import type { Backend } from '../helpers/databases.js';

/** What a backend's create() returns: the store plus its connection settings. */
export type StoreContext = Awaited<ReturnType<Backend['create']>>;

/** A fixed clock: every test passes time explicitly, never the wall clock. */
export const T0 = 1_700_000_000_000;

/** A value unique within one store, so tests sharing a store never collide. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export function isConflict(error: unknown): boolean {
  return error instanceof PortcullisError && error.code === 'conflict';
}

export function newSession(userId: string, overrides: Partial<Session> = {}): Session {
  return {
    id: unique('sess'),
    secretHash: unique('hash'),
    userId,
    createdAt: T0,
    lastSeenAt: T0,
    ip: '203.0.113.7',
    userAgent: 'contract-test',
    revokedAt: null,
    idleMs: null,
    absoluteMs: null,
    endReason: null,
    ...overrides,
  };
}

export function newLink(overrides: Partial<LinkToken> = {}): LinkToken {
  return {
    id: unique('link'),
    purpose: 'verify_email',
    secretHash: unique('hash'),
    userId: null,
    data: {},
    createdAt: T0,
    expiresAt: T0 + 60_000,
    usedAt: null,
    ...overrides,
  };
}

/** Reads every stored `sealed_jwk` value straight from the database, bypassing the store. */
export async function readSealedJwks(context: StoreContext): Promise<string[]> {
  if (context.databaseUrl) {
    const client = new pg.Client({ connectionString: context.databaseUrl });
    await client.connect();
    try {
      const result = await client.query<{ sealed_jwk: string }>('SELECT sealed_jwk FROM signing_keys');
      return result.rows.map((row) => row.sealed_jwk);
    } finally {
      await client.end();
    }
  }
  const sqlite = new SQLite(join(context.dataDir, 'portcullis.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = sqlite.prepare('SELECT sealed_jwk FROM signing_keys').all() as { sealed_jwk: string }[];
    return rows.map((row) => row.sealed_jwk);
  } finally {
    sqlite.close();
  }
}
