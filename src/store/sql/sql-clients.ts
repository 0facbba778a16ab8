// OIDC clients and signing keys on SQL. Private keys are sealed before they reach the database.
import type { Kysely, Selectable } from 'kysely';
import { PortcullisError } from '../../domain/errors.js';
import type { ClientRecord, SigningKey } from '../../domain/types.js';
import { seal, unseal } from '../../crypto/seal.js';
import type { ClientStore, SigningKeyStore } from '../store.js';
import { isUniqueViolation } from './database.js';
import { precompile } from './prepared-queries.js';
import { toInt, type Database } from './schema.js';

function decodeClient(row: Selectable<Database['clients']>): ClientRecord {
  return {
    clientId: row.client_id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    firstParty: toInt(row.first_party) === 1,
    createdAt: toInt(row.created_at),
  };
}

/**
 * How long a node keeps serving a client record it read (every token request looks its client up). A client change
 * made by another process (the CLI, another node) therefore reaches every node within this time; one made through the
 * same store (the admin API, the console) is seen by that node at once.
 */
export const CLIENT_CACHE_MS = 1_000;
const MAX_CACHED_CLIENTS = 1_000;

export interface ClientCacheOptions {
  /** 0 turns the cache off. */
  maxAgeMs?: number;
  /** Monotonic milliseconds; injected by tests. */
  now?: () => number;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

export function sqlClientStore(db: Kysely<Database>, cacheOptions: ClientCacheOptions = {}): ClientStore {
  const maxAgeMs = cacheOptions.maxAgeMs ?? CLIENT_CACHE_MS;
  const now = cacheOptions.now ?? (() => performance.now());
  const values = (c: ClientRecord) => ({
    client_id: c.clientId,
    metadata: JSON.stringify(c.metadata),
    first_party: c.firstParty ? 1 : 0,
    created_at: c.createdAt,
  });
  const select = precompile(db, ['client_id'], (p) => db.selectFrom('clients').selectAll().where('client_id', '=', p.client_id));
  // Frozen records, shared by every caller, keyed by client id; `readAt` is when the read started. Concurrent lookups of
  // an expired entry share one read. Unknown ids are not remembered, so a new client works at once.
  const cache = new Map<string, { readAt: number; record: Promise<ClientRecord | null> }>();
  const read = async (clientId: string): Promise<ClientRecord | null> => {
    const row = (await select({ client_id: clientId })).rows[0];
    return row ? deepFreeze(decodeClient(row)) : null;
  };
  /** After a change through this store; also drops a read that was in flight, since it may predate the change. */
  const forget = (clientId: string) => cache.delete(clientId);
  return {
    async create(client) {
      try {
        await db.insertInto('clients').values(values(client)).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new PortcullisError('conflict', { message: `A client with id "${client.clientId}" already exists.` });
        throw error;
      } finally {
        forget(client.clientId);
      }
    },
    async upsert(client) {
      const v = values(client);
      try {
        await db
          .insertInto('clients')
          .values(v)
          .onConflict((oc) => oc.column('client_id').doUpdateSet({ metadata: v.metadata, first_party: v.first_party }))
          .execute();
      } finally {
        forget(client.clientId);
      }
    },
    find(clientId) {
      if (maxAgeMs <= 0) return read(clientId);
      const at = now();
      const cached = cache.get(clientId);
      if (cached && at - cached.readAt < maxAgeMs) return cached.record;
      const entry = { readAt: at, record: read(clientId) };
      cache.set(clientId, entry);
      if (cache.size > MAX_CACHED_CLIENTS) cache.delete(cache.keys().next().value as string);
      const drop = () => {
        if (cache.get(clientId) === entry) cache.delete(clientId);
      };
      entry.record.then((record) => record === null && drop(), drop);
      return entry.record;
    },
    async list() {
      return (await db.selectFrom('clients').selectAll().orderBy('created_at').execute()).map(decodeClient);
    },
  };
}

export function sqlSigningKeyStore(db: Kysely<Database>, sealKey: Buffer): SigningKeyStore {
  return {
    async add(key) {
      await db
        .insertInto('signing_keys')
        .values({ kid: key.kid, alg: key.alg, sealed_jwk: seal(sealKey, JSON.stringify(key.privateJwk)), created_at: key.createdAt })
        .execute();
    },
    async list() {
      const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid', 'desc').execute();
      return rows.map(
        (row): SigningKey => ({
          kid: row.kid,
          alg: row.alg,
          privateJwk: JSON.parse(unseal(sealKey, row.sealed_jwk)) as Record<string, unknown>,
          createdAt: toInt(row.created_at),
        }),
      );
    },
  };
}
