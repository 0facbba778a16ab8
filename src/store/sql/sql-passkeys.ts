// Passkeys on SQL: one row per credential, decoded at the boundary (PostgreSQL returns bigint as text).
import { sql, type Kysely } from 'kysely';
import { PortcullisError } from '../../domain/errors.js';
import type { PasskeyDeviceType, PasskeyRecord, PasskeyStore } from '../store.js';
import { isUniqueViolation } from './database.js';
import type { SqlDialect } from './migrations.js';
import { toInt, type Database } from './schema.js';

type Row = Database['passkeys'];

function decodeTransports(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

function decode(row: Row): PasskeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: toInt(row.counter),
    transports: decodeTransports(row.transports),
    backupEligible: toInt(row.backup_eligible) === 1,
    backedUp: toInt(row.backed_up) === 1,
    deviceType: (row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice') satisfies PasskeyDeviceType,
    aaguid: row.aaguid,
    name: row.name,
    createdAt: toInt(row.created_at),
    lastUsedAt: toInt(row.last_used_at),
  };
}

function encode(record: PasskeyRecord): Row {
  return {
    id: record.id,
    user_id: record.userId,
    credential_id: record.credentialId,
    public_key: record.publicKey,
    counter: record.counter,
    transports: JSON.stringify(record.transports),
    backup_eligible: record.backupEligible ? 1 : 0,
    backed_up: record.backedUp ? 1 : 0,
    device_type: record.deviceType,
    aaguid: record.aaguid,
    name: record.name,
    created_at: record.createdAt,
    last_used_at: record.lastUsedAt,
  };
}

export function sqlPasskeyStore(db: Kysely<Database>, dialect: SqlDialect): PasskeyStore {
  return {
    async add(record, maxPerUser) {
      try {
        return await db.transaction().execute(async (trx) => {
          // PostgreSQL: the user row lock serializes concurrent adds for one user, so count-then-insert cannot overshoot.
          // SQLite: one connection per process runs transactions one at a time, and writers are serialized anyway.
          if (dialect === 'postgres') await sql`select id from users where id = ${record.userId} for update`.execute(trx);
          const { count } = await trx.selectFrom('passkeys').select((eb) => eb.fn.countAll().as('count')).where('user_id', '=', record.userId).executeTakeFirstOrThrow();
          if (Number(count) >= maxPerUser) return 'limit_reached' as const;
          await trx.insertInto('passkeys').values(encode(record)).execute();
          return 'added' as const;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new PortcullisError('conflict', { detail: 'passkey credential id already registered' });
        throw error;
      }
    },
    async listForUser(userId) {
      const rows = await db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
      return rows.map(decode);
    },
    async findByCredentialId(credentialId) {
      const row = await db.selectFrom('passkeys').selectAll().where('credential_id', '=', credentialId).executeTakeFirst();
      return row ? decode(row) : null;
    },
    async updateAfterUse(credentialId, use) {
      const result = await db
        .updateTable('passkeys')
        .set({ counter: use.counter, backed_up: use.backedUp ? 1 : 0, last_used_at: use.lastUsedAt })
        .where('credential_id', '=', credentialId)
        .where((eb) => (use.counter === 0 ? eb('counter', '=', 0) : eb('counter', '<', use.counter)))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async rename(userId, credentialId, name) {
      const result = await db.updateTable('passkeys').set({ name }).where('user_id', '=', userId).where('credential_id', '=', credentialId).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async remove(userId, credentialId) {
      const result = await db.deleteFrom('passkeys').where('user_id', '=', userId).where('credential_id', '=', credentialId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async countForUser(userId) {
      const { count } = await db.selectFrom('passkeys').select((eb) => eb.fn.countAll().as('count')).where('user_id', '=', userId).executeTakeFirstOrThrow();
      return Number(count);
    },
  };
}
