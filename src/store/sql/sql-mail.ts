// The durable mail outbox and the development mailbox on SQL. Claiming uses a lease so one worker sends each message.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DevMailboxStore, DevMailItem, OutboxMessage, OutboxStatus, OutboxStore } from '../store.js';
import type { SqlDialect } from './migrations.js';
import { toInt, type Database } from './schema.js';

function decodeOutbox(row: Selectable<Database['outbox']>): OutboxMessage {
  return {
    id: row.id,
    to: row.to_address,
    template: row.template,
    sealedContent: row.sealed_content,
    status: row.status as OutboxStatus,
    attempts: toInt(row.attempts),
    nextAttemptAt: toInt(row.next_attempt_at),
    lockedUntil: toInt(row.locked_until),
    lastError: row.last_error,
    createdAt: toInt(row.created_at),
    sentAt: toInt(row.sent_at),
  };
}

export function sqlOutboxStore(db: Kysely<Database>, dialect: SqlDialect): OutboxStore {
  return {
    async enqueue(message, now) {
      await db
        .insertInto('outbox')
        .values({
          id: message.id,
          to_address: message.to,
          template: message.template,
          sealed_content: message.sealedContent,
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          locked_until: null,
          last_error: null,
          created_at: now,
          sent_at: null,
        })
        .execute();
    },
    async claimDue(now, limit, leaseMs) {
      // PostgreSQL: SKIP LOCKED lets parallel workers take disjoint rows. SQLite has one writer, so the
      // single UPDATE … WHERE id IN (SELECT …) is already atomic.
      const due = db
        .selectFrom('outbox')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
        .orderBy('next_attempt_at')
        .limit(limit);
      const rows = await db
        .updateTable('outbox')
        .set({ locked_until: now + leaseMs })
        .where('id', 'in', dialect === 'postgres' ? due.forUpdate().skipLocked() : due)
        .returningAll()
        .execute();
      return rows.map(decodeOutbox).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
    },
    async extendLease(ids, from, until) {
      if (ids.length === 0) return 0;
      const result = await db
        .updateTable('outbox')
        .set({ locked_until: until })
        .where('id', 'in', [...ids])
        .where('status', '=', 'pending')
        .where('locked_until', '=', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async markSent(id, now) {
      await db.updateTable('outbox').set({ status: 'sent', sent_at: now, sealed_content: null, locked_until: null, attempts: sql`attempts + 1` }).where('id', '=', id).execute();
    },
    async markAttemptFailed(id, error, nextAttemptAt) {
      await db
        .updateTable('outbox')
        .set({
          attempts: sql`attempts + 1`,
          last_error: error.slice(0, 500),
          locked_until: null,
          ...(nextAttemptAt === null ? { status: 'failed' } : { next_attempt_at: nextAttemptAt }),
        })
        .where('id', '=', id)
        .execute();
    },
    async list({ status, limit }) {
      let query = db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc').limit(limit);
      if (status) query = query.where('status', '=', status);
      return (await query.execute()).map(decodeOutbox);
    },
    async findById(id) {
      const row = await db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? decodeOutbox(row) : null;
    },
    async countByStatus() {
      // One grouped count over the (status, next_attempt_at) index; sent rows are not counted.
      const rows = await db
        .selectFrom('outbox')
        .select(['status', (eb) => eb.fn.countAll().as('count')])
        .where('status', 'in', ['pending', 'failed'])
        .groupBy('status')
        .execute();
      const counts = { pending: 0, failed: 0 };
      for (const row of rows) if (row.status === 'pending' || row.status === 'failed') counts[row.status] = Number(row.count);
      return counts;
    },
  };
}

function decodeDevMail(row: Selectable<Database['dev_mailbox']>): DevMailItem {
  return { id: row.id, to: row.to_address, subject: row.subject, text: row.text_body, html: row.html_body, receivedAt: toInt(row.received_at) };
}

export function sqlDevMailboxStore(db: Kysely<Database>): DevMailboxStore {
  return {
    async deliver(item) {
      await db
        .insertInto('dev_mailbox')
        .values({ id: item.id, to_address: item.to, subject: item.subject, text_body: item.text, html_body: item.html, received_at: item.receivedAt })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },
    async list(limit) {
      return (await db.selectFrom('dev_mailbox').selectAll().orderBy('received_at', 'desc').orderBy('id').limit(limit).execute()).map(decodeDevMail);
    },
    async findById(id) {
      const row = await db.selectFrom('dev_mailbox').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? decodeDevMail(row) : null;
    },
  };
}
