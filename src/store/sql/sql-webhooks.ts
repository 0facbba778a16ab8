// Webhooks and their delivery outbox on SQL. Claiming works like the mail outbox: a lease per row, taken with one
// UPDATE … WHERE id IN (SELECT …), plus FOR UPDATE SKIP LOCKED on PostgreSQL so parallel workers take disjoint rows.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Webhook, WebhookDelivery, WebhookDeliveryStatus, WebhookStore } from '../store.js';
import type { SqlDialect } from './migrations.js';
import { toInt, type Database } from './schema.js';

function decodeCodes(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}

function decodeWebhook(row: Selectable<Database['webhooks']>): Webhook {
  return {
    id: row.id,
    url: row.url,
    codes: decodeCodes(row.codes),
    sealedSecret: row.sealed_secret,
    description: row.description,
    disabled: toInt(row.disabled) === 1,
    createdAt: toInt(row.created_at),
  };
}

function decodeDelivery(row: Selectable<Database['webhook_deliveries']>): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventCode: row.event_code,
    payload: row.payload,
    status: row.status as WebhookDeliveryStatus,
    attempts: toInt(row.attempts),
    nextAttemptAt: toInt(row.next_attempt_at),
    lastStatus: toInt(row.last_status),
    lastError: row.last_error,
    createdAt: toInt(row.created_at),
    deliveredAt: toInt(row.delivered_at),
  };
}

export function sqlWebhookStore(db: Kysely<Database>, dialect: SqlDialect): WebhookStore {
  return {
    async create(hook) {
      await db
        .insertInto('webhooks')
        .values({
          id: hook.id,
          url: hook.url,
          codes: JSON.stringify(hook.codes),
          sealed_secret: hook.sealedSecret,
          description: hook.description,
          disabled: hook.disabled ? 1 : 0,
          created_at: hook.createdAt,
        })
        .execute();
    },
    async list() {
      return (await db.selectFrom('webhooks').selectAll().orderBy('created_at').orderBy('id').execute()).map(decodeWebhook);
    },
    async findById(id) {
      const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? decodeWebhook(row) : null;
    },
    async remove(id) {
      // The foreign key cascades too; deleting the log explicitly keeps that true whatever the connection's settings.
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
        const result = await trx.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      });
    },
    async setDisabled(id, disabled) {
      const result = await db.updateTable('webhooks').set({ disabled: disabled ? 1 : 0 }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async enqueue(delivery, now) {
      await db
        .insertInto('webhook_deliveries')
        .values({
          id: delivery.id,
          webhook_id: delivery.webhookId,
          event_id: delivery.eventId,
          event_code: delivery.eventCode,
          payload: delivery.payload,
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          locked_until: null,
          last_status: null,
          last_error: null,
          created_at: now,
          delivered_at: null,
        })
        .execute();
    },
    async claimDue(now, limit, leaseMs) {
      const due = db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
        .orderBy('next_attempt_at')
        .orderBy('created_at')
        .limit(limit);
      const rows = await db
        .updateTable('webhook_deliveries')
        .set({ locked_until: now + leaseMs })
        .where('id', 'in', dialect === 'postgres' ? due.forUpdate().skipLocked() : due)
        .returningAll()
        .execute();
      return rows.map(decodeDelivery).sort((a, b) => (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0) || a.createdAt - b.createdAt);
    },
    async markDelivered(id, status, now) {
      await db
        .updateTable('webhook_deliveries')
        .set({ status: 'delivered', delivered_at: now, last_status: status, last_error: null, locked_until: null, next_attempt_at: null, attempts: sql`attempts + 1` })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .execute();
    },
    async markAttemptFailed(id, result, nextAttemptAt) {
      await db
        .updateTable('webhook_deliveries')
        .set({
          attempts: sql`attempts + 1`,
          last_status: result.status,
          last_error: result.error.slice(0, 500),
          locked_until: null,
          ...(nextAttemptAt === null ? { status: 'failed', next_attempt_at: null } : { next_attempt_at: nextAttemptAt }),
        })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .execute();
    },
    async listDeliveries({ webhookId, status, limit }) {
      let query = db.selectFrom('webhook_deliveries').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
      if (webhookId) query = query.where('webhook_id', '=', webhookId);
      if (status) query = query.where('status', '=', status);
      return (await query.execute()).map(decodeDelivery);
    },
    async countPending() {
      const row = await db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
