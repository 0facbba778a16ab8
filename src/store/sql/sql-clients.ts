// OIDC clients and signing keys on SQL. Private keys are sealed before they reach the database.
import type { Kysely, Selectable } from 'kysely';
import { PortcullisError } from '../../domain/errors.js';
import type { ClientRecord, SigningKey } from '../../domain/types.js';
import { seal, unseal } from '../../crypto/seal.js';
import type { ClientStore, SigningKeyStore } from '../store.js';
import { isUniqueViolation } from './database.js';
import { toInt, type Database } from './schema.js';

function decodeClient(row: Selectable<Database['clients']>): ClientRecord {
  return {
    clientId: row.client_id,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    firstParty: toInt(row.first_party) === 1,
    createdAt: toInt(row.created_at),
  };
}

export function sqlClientStore(db: Kysely<Database>): ClientStore {
  const values = (c: ClientRecord) => ({
    client_id: c.clientId,
    metadata: JSON.stringify(c.metadata),
    first_party: c.firstParty ? 1 : 0,
    created_at: c.createdAt,
  });
  return {
    async create(client) {
      try {
        await db.insertInto('clients').values(values(client)).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new PortcullisError('conflict', { message: `A client with id "${client.clientId}" already exists.` });
        throw error;
      }
    },
    async upsert(client) {
      const v = values(client);
      await db
        .insertInto('clients')
        .values(v)
        .onConflict((oc) => oc.column('client_id').doUpdateSet({ metadata: v.metadata, first_party: v.first_party }))
        .execute();
    },
    async find(clientId) {
      const row = await db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      return row ? decodeClient(row) : null;
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
