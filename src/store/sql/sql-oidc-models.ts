// oidc-provider models on SQL: one table keyed by (model, id), with grant, uid and user-code lookups.
import type { Kysely } from 'kysely';
import type { OidcModelRecord, OidcModelStore } from '../store.js';
import { toInt, type Database } from './schema.js';

type Row = { payload: string; expires_at: unknown; consumed_at: unknown };

function decode(row: Row | undefined, now: number): OidcModelRecord | null {
  if (!row) return null;
  const expiresAt = toInt(row.expires_at as number | null);
  if (expiresAt !== null && expiresAt <= now) return null;
  return { payload: JSON.parse(row.payload) as Record<string, unknown>, expiresAt, consumedAt: toInt(row.consumed_at as number | null) };
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

export function sqlOidcModelStore(db: Kysely<Database>): OidcModelStore {
  const columns = ['payload', 'expires_at', 'consumed_at'] as const;
  return {
    async upsert(model, id, payload, expiresAt) {
      const values = {
        model,
        id,
        payload: JSON.stringify(payload),
        grant_id: str(payload.grantId),
        uid: str(payload.uid),
        user_code: str(payload.userCode),
        account_id: str(payload.accountId),
        expires_at: expiresAt,
        consumed_at: null,
      };
      await db
        .insertInto('oidc_models')
        .values(values)
        .onConflict((oc) =>
          oc.columns(['model', 'id']).doUpdateSet({
            payload: values.payload,
            grant_id: values.grant_id,
            uid: values.uid,
            user_code: values.user_code,
            account_id: values.account_id,
            expires_at: values.expires_at,
          }),
        )
        .execute();
    },
    async find(model, id, now) {
      return decode(await db.selectFrom('oidc_models').select(columns).where('model', '=', model).where('id', '=', id).executeTakeFirst(), now);
    },
    async findByUid(model, uid, now) {
      return decode(await db.selectFrom('oidc_models').select(columns).where('model', '=', model).where('uid', '=', uid).executeTakeFirst(), now);
    },
    async findByUserCode(model, userCode, now) {
      return decode(
        await db.selectFrom('oidc_models').select(columns).where('model', '=', model).where('user_code', '=', userCode).executeTakeFirst(),
        now,
      );
    },
    async consume(model, id, now) {
      const result = await db
        .updateTable('oidc_models')
        .set({ consumed_at: now })
        .where('model', '=', model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async destroy(model, id) {
      await db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id).execute();
    },
    async revokeByGrantId(grantId) {
      await db.deleteFrom('oidc_models').where('grant_id', '=', grantId).execute();
    },
    async revokeByAccountId(accountId) {
      // Provider sessions stay until the session sweep has told their apps (back-channel logout) and removed them; they
      // grant nothing meanwhile, since SSO needs a live Portcullis session too.
      const result = await db.deleteFrom('oidc_models').where('account_id', '=', accountId).where('model', '!=', 'Session').executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async deleteExpired(now) {
      const result = await db.deleteFrom('oidc_models').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
