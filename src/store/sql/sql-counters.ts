// Fixed-window counters on SQL: one atomic upsert per hit, so parallel hits never lose a count.
import { sql, type Kysely } from 'kysely';
import type { CounterStore } from '../store.js';
import type { Database } from './schema.js';

export function sqlCounterStore(db: Kysely<Database>): CounterStore {
  return {
    async hit(key, windowMs, now) {
      const windowStart = now - (now % windowMs);
      const row = await db
        .insertInto('counters')
        .values({ key, window_start: windowStart, count: 1 })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            count: sql`case when counters.window_start = ${windowStart} then counters.count + 1 else 1 end`,
            window_start: windowStart,
          }),
        )
        .returning('count')
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
    async get(key, windowMs, now) {
      const windowStart = now - (now % windowMs);
      const row = await db.selectFrom('counters').select('count').where('key', '=', key).where('window_start', '=', windowStart).executeTakeFirst();
      return row ? Number(row.count) : 0;
    },
  };
}
