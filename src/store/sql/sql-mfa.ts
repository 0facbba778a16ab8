// TOTP secrets and recovery codes on SQL. Secrets are sealed before they reach the database; single use is a conditional UPDATE.
import { hkdfSync } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { constantTimeEqual } from '../../crypto/constant-time.js';
import { seal, unseal } from '../../crypto/seal.js';
import type { MfaStore, TotpRecord } from '../store.js';
import { toInt, type Database } from './schema.js';
import { precompile } from './prepared-queries.js';

/**
 * The default TOTP sealing key: an HKDF sub-key of the store's seal key, so the signing-key ciphertexts and
 * the TOTP ciphertexts never share a key, without a second secret to configure.
 */
export function mfaSealKeyFrom(sealKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', sealKey, Buffer.alloc(0), 'portcullis:seal-mfa-totp', 32));
}

function decodeTotp(row: Selectable<Database['mfa_totp']>, key: Buffer): TotpRecord {
  return {
    secret: row.sealed_secret === null ? null : unseal(key, row.sealed_secret),
    pendingSecret: row.sealed_pending_secret === null ? null : unseal(key, row.sealed_pending_secret),
    pendingAt: toInt(row.pending_at),
    lastStep: toInt(row.last_step),
    createdAt: toInt(row.created_at),
    confirmedAt: toInt(row.confirmed_at),
  };
}

export function sqlMfaStore(db: Kysely<Database>, sealKey: Buffer): MfaStore {
  // Read on every sign-in (does this account have a second factor?): compiled once.
  const totpOf = precompile(db, ['user_id'], (p) => db.selectFrom('mfa_totp').selectAll().where('user_id', '=', p.user_id));
  return {
    async getTotp(userId) {
      const row = (await totpOf({ user_id: userId })).rows[0];
      return row ? decodeTotp(row, sealKey) : null;
    },
    async enableTotp(userId, secret, now) {
      const active = { sealed_secret: seal(sealKey, secret), sealed_pending_secret: null, pending_at: null, last_step: null, created_at: now, confirmed_at: now };
      await db
        .insertInto('mfa_totp')
        .values({ user_id: userId, ...active })
        .onConflict((oc) => oc.column('user_id').doUpdateSet(active))
        .execute();
    },
    async setPendingTotp(userId, secret, now) {
      const pending = { sealed_pending_secret: seal(sealKey, secret), pending_at: now };
      await db
        .insertInto('mfa_totp')
        .values({ user_id: userId, sealed_secret: null, ...pending, last_step: null, created_at: now, confirmed_at: null })
        .onConflict((oc) => oc.column('user_id').doUpdateSet(pending))
        .execute();
    },
    async confirmTotp(userId, secret, step, now) {
      const row = await db.selectFrom('mfa_totp').select('sealed_pending_secret').where('user_id', '=', userId).executeTakeFirst();
      const sealed = row?.sealed_pending_secret ?? null;
      if (sealed === null || !constantTimeEqual(unseal(sealKey, sealed), secret)) return false;
      // Conditional on the exact ciphertext read: a restarted enrollment (new ciphertext) makes this a no-op.
      const result = await db
        .updateTable('mfa_totp')
        .set({ sealed_secret: sealed, sealed_pending_secret: null, pending_at: null, last_step: step, created_at: now, confirmed_at: now })
        .where('user_id', '=', userId)
        .where('sealed_pending_secret', '=', sealed)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async recordTotpStep(userId, step) {
      // One conditional UPDATE: PostgreSQL re-checks the WHERE after a concurrent writer commits, SQLite serializes writers.
      const result = await db
        .updateTable('mfa_totp')
        .set({ last_step: step })
        .where('user_id', '=', userId)
        .where('sealed_secret', 'is not', null)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async replaceRecoveryCodes(userId, hashes, now) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        if (hashes.length === 0) return;
        await trx
          .insertInto('recovery_codes')
          .values(hashes.map((hash) => ({ user_id: userId, code_hash: hash, used_at: null, created_at: now })))
          .execute();
      });
    },
    async consumeRecoveryCode(userId, hash, now) {
      const result = await db
        .updateTable('recovery_codes')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('code_hash', '=', hash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async countRecoveryCodes(userId) {
      const row = await db
        .selectFrom('recovery_codes')
        .select(sql<number | string>`count(*)`.as('n'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async resetMfa(userId) {
      return db.transaction().execute(async (trx) => {
        const totp = await trx.deleteFrom('mfa_totp').where('user_id', '=', userId).executeTakeFirst();
        const codes = await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).executeTakeFirst();
        return { removedTotp: Number(totp.numDeletedRows) > 0, removedRecoveryCodes: Number(codes.numDeletedRows) };
      });
    },
  };
}
