// The security event log on SQL, append-only.
import type { Kysely, Selectable } from 'kysely';
import { randomId } from '../../crypto/tokens.js';
import type { EventCode, SecurityEvent } from '../../events/event-codes.js';
import type { EventStore } from '../store.js';
import { toInt, type Database } from './schema.js';

function decodeEvent(row: Selectable<Database['events']>): SecurityEvent {
  return {
    id: row.id,
    at: toInt(row.at),
    code: row.code as EventCode,
    userId: row.user_id,
    identifier: row.identifier,
    ip: row.ip,
    userAgent: row.user_agent,
    clientId: row.client_id,
    outcome: row.outcome as SecurityEvent['outcome'],
    reason: row.reason,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}

export function sqlEventStore(db: Kysely<Database>): EventStore {
  return {
    async append(input, now) {
      const event: SecurityEvent = {
        id: randomId(),
        at: now,
        code: input.code,
        userId: input.userId ?? null,
        identifier: input.identifier ? input.identifier.slice(0, 320) : null,
        ip: input.ip ?? null,
        userAgent: input.userAgent ? input.userAgent.slice(0, 512) : null,
        clientId: input.clientId ?? null,
        outcome: input.outcome,
        reason: input.reason ?? null,
        details: input.details ?? {},
      };
      await db
        .insertInto('events')
        .values({
          id: event.id,
          at: event.at,
          code: event.code,
          user_id: event.userId,
          identifier: event.identifier,
          ip: event.ip,
          user_agent: event.userAgent,
          client_id: event.clientId,
          outcome: event.outcome,
          reason: event.reason,
          details: JSON.stringify(event.details),
        })
        .execute();
      return event;
    },
    async list({ userId, limit, code, since }) {
      let query = db.selectFrom('events').selectAll().orderBy('seq', 'desc').limit(limit);
      if (userId) query = query.where('user_id', '=', userId);
      if (code) query = query.where('code', '=', code);
      if (since !== undefined) query = query.where('at', '>=', since);
      return (await query.execute()).map(decodeEvent);
    },
  };
}
