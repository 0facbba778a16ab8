// oidc-provider models on SQL: one table keyed by (model, id), with grant, uid and user-code lookups.
import type { Kysely } from 'kysely';
import type { OidcModelRecord, OidcModelStore } from '../store.js';
import { precompile } from './prepared-queries.js';
import type { QueryExecutor } from './group-commit.js';
import { toInt, type Database } from './schema.js';

type Row = { payload: string; expires_at: unknown; consumed_at: unknown };

function decode(row: Row | undefined, now: number): OidcModelRecord | null {
  if (!row) return null;
  const expiresAt = toInt(row.expires_at as number | null);
  if (expiresAt !== null && expiresAt <= now) return null;
  return { payload: JSON.parse(row.payload) as Record<string, unknown>, expiresAt, consumedAt: toInt(row.consumed_at as number | null) };
}

const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * `writes` (SQLite's group commit) takes every change to oidc_models, so that changes apply in the order they are
 * made: a revocation must not overtake a token saved just before it.
 */
export function sqlOidcModelStore(db: Kysely<Database>, writes: QueryExecutor = (query) => db.executeQuery(query)): OidcModelStore {
  const columns = ['payload', 'expires_at', 'consumed_at'] as const;
  // The statements of every token request, compiled once (prepared-queries.ts).
  const upsert = precompile(db, ['model', 'id', 'payload', 'grant_id', 'uid', 'user_code', 'account_id', 'expires_at'], (p) =>
    db
      .insertInto('oidc_models')
      .values({ ...p, consumed_at: null })
      .onConflict((oc) =>
        oc.columns(['model', 'id']).doUpdateSet({
          payload: p.payload,
          grant_id: p.grant_id,
          uid: p.uid,
          user_code: p.user_code,
          account_id: p.account_id,
          expires_at: p.expires_at,
        }),
      ),
    writes,
  );
  const saveConsumed = precompile(db, ['model', 'id', 'payload', 'grant_id', 'uid', 'user_code', 'account_id', 'expires_at', 'now'], (p) =>
    db
      .insertInto('oidc_models')
      .values({ model: p.model, id: p.id, payload: p.payload, grant_id: p.grant_id, uid: p.uid, user_code: p.user_code, account_id: p.account_id, expires_at: p.expires_at, consumed_at: p.now })
      .onConflict((oc) =>
        oc
          .columns(['model', 'id'])
          .doUpdateSet({ payload: p.payload, grant_id: p.grant_id, uid: p.uid, user_code: p.user_code, account_id: p.account_id, expires_at: p.expires_at, consumed_at: p.now })
          // The claim: a row another request already consumed is not touched, and no row counts as changed.
          .where('oidc_models.consumed_at', 'is', null),
      ),
    writes,
  );
  const findById = precompile(db, ['model', 'id'], (p) => db.selectFrom('oidc_models').select(columns).where('model', '=', p.model).where('id', '=', p.id));
  const findByUid = precompile(db, ['model', 'uid'], (p) => db.selectFrom('oidc_models').select(columns).where('model', '=', p.model).where('uid', '=', p.uid));
  const consume = precompile(db, ['model', 'id', 'now'], (p) =>
    db.updateTable('oidc_models').set({ consumed_at: p.now }).where('model', '=', p.model).where('id', '=', p.id).where('consumed_at', 'is', null),
    writes,
  );
  return {
    async upsert(model, id, payload, expiresAt) {
      await upsert({
        model,
        id,
        payload: JSON.stringify(payload),
        grant_id: str(payload.grantId),
        uid: str(payload.uid),
        user_code: str(payload.userCode),
        account_id: str(payload.accountId),
        expires_at: expiresAt,
      });
    },
    async saveConsumed(model, id, payload, expiresAt, now) {
      const result = await saveConsumed({
        model,
        id,
        payload: JSON.stringify(payload),
        grant_id: str(payload.grantId),
        uid: str(payload.uid),
        user_code: str(payload.userCode),
        account_id: str(payload.accountId),
        expires_at: expiresAt,
        now,
      });
      return Number(result.numAffectedRows ?? 0) === 1;
    },
    async find(model, id, now) {
      return decode((await findById({ model, id })).rows[0], now);
    },
    async findByUid(model, uid, now) {
      return decode((await findByUid({ model, uid })).rows[0], now);
    },
    async findByUserCode(model, userCode, now) {
      return decode(
        await db.selectFrom('oidc_models').select(columns).where('model', '=', model).where('user_code', '=', userCode).executeTakeFirst(),
        now,
      );
    },
    async consume(model, id, now) {
      const result = await consume({ model, id, now });
      return Number(result.numAffectedRows ?? 0) === 1;
    },
    async destroy(model, id) {
      await writes(db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id).compile());
    },
    async revokeByGrantId(grantId) {
      await writes(db.deleteFrom('oidc_models').where('grant_id', '=', grantId).compile());
    },
    async revokeByAccountId(accountId) {
      // Provider sessions stay until the session sweep has told their apps (back-channel logout) and removed them; they
      // grant nothing meanwhile, since SSO needs a live Portcullis session too.
      const result = await writes(db.deleteFrom('oidc_models').where('account_id', '=', accountId).where('model', '!=', 'Session').compile());
      return Number(result.numAffectedRows ?? 0);
    },
    async deleteExpired(now) {
      const result = await db.deleteFrom('oidc_models').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
