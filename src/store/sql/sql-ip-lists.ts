// IP reputation lists on SQL. Every write runs in one transaction and bumps its list's revision.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { IpListEntry, IpListStore } from '../store.js';
import { toInt, type Database } from './schema.js';

/** Rows per INSERT: 4 parameters each stays far below SQLite's 32766 and PostgreSQL's 65535 bound parameters. */
const CHUNK = 1000;

async function touchList(trx: Transaction<Database>, name: string, now: number): Promise<void> {
  await trx
    .insertInto('ip_lists')
    .values({ name, revision: 1, updated_at: now })
    .onConflict((oc) => oc.column('name').doUpdateSet({ revision: sql`ip_lists.revision + 1`, updated_at: now }))
    .execute();
}

async function insertEntries(trx: Transaction<Database>, listName: string, entries: readonly { cidr: string; note: string | null }[], now: number): Promise<number> {
  let added = 0;
  for (let i = 0; i < entries.length; i += CHUNK) {
    const rows = entries.slice(i, i + CHUNK).map((e) => ({ list_name: listName, cidr: e.cidr, note: e.note, added_at: now }));
    const inserted = await trx
      .insertInto('ip_list_entries')
      .values(rows)
      .onConflict((oc) => oc.columns(['list_name', 'cidr']).doNothing())
      .returning('cidr')
      .execute();
    added += inserted.length;
  }
  return added;
}

const decodeEntry = (row: { list_name: string; cidr: string; note: string | null; added_at: unknown }): IpListEntry => ({
  list: row.list_name,
  cidr: row.cidr,
  note: row.note,
  addedAt: Number(row.added_at),
});

export function sqlIpListStore(db: Kysely<Database>): IpListStore {
  return {
    async replace(listName, entries, now) {
      return db.transaction().execute(async (trx) => {
        await touchList(trx, listName, now);
        await trx.deleteFrom('ip_list_entries').where('list_name', '=', listName).execute();
        return insertEntries(trx, listName, entries, now);
      });
    },
    async add(listName, entries, now) {
      return db.transaction().execute(async (trx) => {
        await touchList(trx, listName, now);
        return insertEntries(trx, listName, entries, now);
      });
    },
    async remove(listName, cidr, now) {
      return db.transaction().execute(async (trx) => {
        const result = await trx.deleteFrom('ip_list_entries').where('list_name', '=', listName).where('cidr', '=', cidr).executeTakeFirst();
        const removed = Number(result.numDeletedRows) > 0;
        if (removed) await touchList(trx, listName, now);
        return removed;
      });
    },
    async list(listName) {
      let query = db.selectFrom('ip_list_entries').selectAll();
      if (listName !== undefined) query = query.where('list_name', '=', listName);
      const rows = await query.orderBy('list_name').orderBy('cidr').execute();
      return rows.map(decodeEntry);
    },
    async names() {
      const rows = await db.selectFrom('ip_lists').select('name').orderBy('name').execute();
      return rows.map((r) => r.name);
    },
    async summaries() {
      const rows = await db
        .selectFrom('ip_lists')
        .leftJoin('ip_list_entries', 'ip_list_entries.list_name', 'ip_lists.name')
        .select(['ip_lists.name', 'ip_lists.updated_at', (eb) => eb.fn.count('ip_list_entries.cidr').as('entries')])
        .groupBy(['ip_lists.name', 'ip_lists.updated_at'])
        .orderBy('ip_lists.name')
        .execute();
      return rows.map((r) => ({ name: r.name, entries: Number(r.entries), updatedAt: toInt(r.updated_at) }));
    },
    async revision() {
      // Revisions only grow and list rows are never deleted, so (lists, sum of revisions) changes on every write.
      const row = await db
        .selectFrom('ip_lists')
        .select((eb) => [eb.fn.countAll().as('lists'), eb.fn.coalesce(eb.fn.sum('revision'), sql`0`).as('total')])
        .executeTakeFirstOrThrow();
      return `${String(row.lists)}:${String(row.total)}`;
    },
  };
}
