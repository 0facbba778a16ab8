// Brute-force slots, token buckets and once-keys on SQL. Each operation is one conditional upsert, so it is atomic on both engines.
import { sql, type Kysely } from 'kysely';
import type { AttemptRecord, AttemptStore, BucketRecord, OnceStore, RateLimitStore } from '../store.js';
import { toInt, type Database } from './schema.js';
import { precompile } from './prepared-queries.js';

const decodeAttempt = (row: { identifier: string; ip_key: string; count: unknown; last_at: unknown }): AttemptRecord => ({
  identifier: row.identifier,
  ipKey: row.ip_key,
  count: Number(row.count),
  lastAt: Number(row.last_at),
});

export function sqlAttemptStore(db: Kysely<Database>): AttemptStore {
  // Every password attempt reserves a slot and every correct one clears it: both are compiled once.
  const reserve = precompile(db, ['identifier', 'ip_key', 'now', 'stale', 'limit'], (p) =>
    db
      .insertInto('login_attempts')
      .values({ identifier: p.identifier, ip_key: p.ip_key, count: 1, last_at: p.now })
      .onConflict((oc) =>
        oc
          .columns(['identifier', 'ip_key'])
          .doUpdateSet({
            count: sql`case when login_attempts.last_at <= ${p.stale} then 1 else login_attempts.count + 1 end`,
            last_at: p.now,
          })
          .where((eb) => eb.or([eb('login_attempts.count', '<', p.limit), eb('login_attempts.last_at', '<=', p.stale)])),
      )
      .returning('count'),
  );
  const clear = precompile(db, ['identifier', 'ip_key'], (p) => db.deleteFrom('login_attempts').where('identifier', '=', p.identifier).where('ip_key', '=', p.ip_key));
  return {
    async reserve(identifier, ipKey, limit, now, resetAfterMs) {
      const row = (await reserve({ identifier, ip_key: ipKey, now, stale: now - resetAfterMs, limit })).rows[0];
      if (row) return { allowed: true, count: Number(row.count) };
      const current = await db.selectFrom('login_attempts').select('count').where('identifier', '=', identifier).where('ip_key', '=', ipKey).executeTakeFirst();
      return { allowed: false, count: Number(current?.count ?? limit) };
    },
    async get(identifier, ipKey) {
      const row = await db.selectFrom('login_attempts').selectAll().where('identifier', '=', identifier).where('ip_key', '=', ipKey).executeTakeFirst();
      return row ? decodeAttempt(row) : null;
    },
    async clear(identifier, ipKey) {
      const result = await clear({ identifier, ip_key: ipKey });
      return Number(result.numAffectedRows ?? 0) > 0;
    },
    async clearIdentifier(identifier) {
      const result = await db.deleteFrom('login_attempts').where('identifier', '=', identifier).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async listAtLeast(count, since, limit) {
      const rows = await db.selectFrom('login_attempts').selectAll().where('count', '>=', count).where('last_at', '>', since).orderBy('last_at', 'desc').limit(limit).execute();
      return rows.map(decodeAttempt);
    },
  };
}

const decodeBucket = (row: { key: string; tokens: unknown; updated_at: unknown }): BucketRecord => ({
  key: row.key,
  tokens: Number(row.tokens),
  updatedAt: toInt(row.updated_at as number),
});

export function sqlRateLimitStore(db: Kysely<Database>): RateLimitStore {
  // Taken and refunded on every password attempt: compiled once.
  const take = precompile(db, ['key', 'capacity', 'first', 'refill_ms', 'now'], (p) => {
    // Takes from several nodes can arrive out of clock order, so time never runs backwards for a bucket (as in the
    // Redis script): a `now` before updated_at refills nothing, and updated_at only moves forward.
    const elapsed = sql<number>`(case when ${p.now} > rate_buckets.updated_at then ${p.now} - rate_buckets.updated_at else 0 end)`;
    // Tokens after refill, capped at capacity; `* 1.0` keeps the division fractional on PostgreSQL.
    const refilled = sql<number>`(case when rate_buckets.tokens + ${elapsed} * 1.0 / ${p.refill_ms} > ${p.capacity} then ${p.capacity} * 1.0 else rate_buckets.tokens + ${elapsed} * 1.0 / ${p.refill_ms} end)`;
    return db
      .insertInto('rate_buckets')
      .values({ key: p.key, tokens: p.first, updated_at: p.now })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({
            tokens: sql`${refilled} - 1`,
            updated_at: sql`case when ${p.now} > rate_buckets.updated_at then ${p.now} else rate_buckets.updated_at end`,
          })
          .where(sql<boolean>`${refilled} >= 1`),
      )
      .returning('tokens');
  });
  const refund = precompile(db, ['key', 'capacity'], (p) =>
    db
      .updateTable('rate_buckets')
      .set({ tokens: sql`case when tokens + 1 > ${p.capacity} then ${p.capacity} * 1.0 else tokens + 1 end` })
      .where('key', '=', p.key),
  );
  return {
    async take(key, capacity, refillMs, now) {
      const row = (await take({ key, capacity, first: capacity - 1, refill_ms: refillMs, now })).rows[0];
      if (row) return { allowed: true, tokens: Number(row.tokens) };
      const current = await db.selectFrom('rate_buckets').selectAll().where('key', '=', key).executeTakeFirst();
      const tokens = current ? Math.min(capacity, Number(current.tokens) + Math.max(0, now - Number(current.updated_at)) / refillMs) : capacity;
      return { allowed: false, tokens };
    },
    async refund(key, capacity) {
      await refund({ key, capacity });
    },
    async get(key) {
      const row = await db.selectFrom('rate_buckets').selectAll().where('key', '=', key).executeTakeFirst();
      return row ? decodeBucket(row) : null;
    },
    async list(prefix, limit) {
      const rows = await db.selectFrom('rate_buckets').selectAll().where('key', '>=', prefix).where('key', '<', `${prefix}\uffff`).orderBy('updated_at', 'desc').limit(limit).execute();
      return rows.map(decodeBucket);
    },
    async reset(key) {
      const result = await db.deleteFrom('rate_buckets').where('key', '=', key).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export function sqlOnceStore(db: Kysely<Database>): OnceStore {
  return {
    async claim(key, ttlMs, now) {
      const row = await db
        .insertInto('once_keys')
        .values({ key, expires_at: now + ttlMs })
        .onConflict((oc) => oc.column('key').doUpdateSet({ expires_at: now + ttlMs }).where('once_keys.expires_at', '<=', now))
        .returning('key')
        .executeTakeFirst();
      return row !== undefined;
    },
    async isHeld(key, now) {
      const row = await db.selectFrom('once_keys').select('key').where('key', '=', key).where('expires_at', '>', now).executeTakeFirst();
      return row !== undefined;
    },
  };
}
