// The security event log on SQL, append-only.
import { sql, type Kysely, type Selectable } from 'kysely';
import { PortcullisError } from '../../domain/errors.js';
import { randomId } from '../../crypto/tokens.js';
import type { EventCode, SecurityEvent } from '../../events/event-codes.js';
import type { EventStore } from '../store.js';
import { toInt, type Database } from './schema.js';
import { precompile } from './prepared-queries.js';
import type { QueryExecutor } from './group-commit.js';

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

const EVENT_COLUMNS = ['id', 'at', 'code', 'user_id', 'identifier', 'ip', 'user_agent', 'client_id', 'outcome', 'reason', 'details'] as const;

export function sqlEventStore(db: Kysely<Database>, writes?: QueryExecutor): EventStore {
  // Several events per sign-in: the insert is compiled once, and committed with the other writes of its turn.
  const insert = precompile(db, EVENT_COLUMNS, (p) => db.insertInto('events').values(p), writes);
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
      await insert({
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
        });
      return event;
    },
    async list({ userId, limit, code, since }) {
      let query = db.selectFrom('events').selectAll().orderBy('seq', 'desc').limit(limit);
      if (userId) query = query.where('user_id', '=', userId);
      if (code) query = query.where('code', '=', code);
      if (since !== undefined) query = query.where('at', '>=', since);
      return (await query.execute()).map(decodeEvent);
    },
    async query(filter) {
      const limit = positiveInteger(filter.limit, 'limit');
      const cursor = filter.before ? decodeCursor(filter.before) : null;
      let query = db.selectFrom('events').selectAll();
      if (filter.userId) query = query.where('user_id', '=', filter.userId);
      if (filter.orgId) {
        const orgId = filter.orgId;
        query = query.where('user_id', 'in', (eb) => eb.selectFrom('users').select('id').where('org_id', '=', orgId));
      }
      if (filter.ip) query = query.where('ip', '=', filter.ip);
      if (filter.codes && filter.codes.length > 0) query = query.where('code', 'in', [...filter.codes]);
      if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
      if (filter.until !== undefined) query = query.where('at', '<', filter.until);
      if (cursor) {
        // Strictly older than the last row of the previous page; `seq` (insertion order) breaks ties on `at`.
        query = query.where((eb) => eb.or([eb('at', '<', cursor.at), eb.and([eb('at', '=', cursor.at), eb('seq', '<', cursor.seq)])]));
      }
      // One extra row tells whether another page follows, so the last page never points at an empty one.
      const rows = await query.orderBy('at', 'desc').orderBy('seq', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const next = rows.length > limit && last ? encodeCursor(toInt(last.at), toInt(last.seq)) : null;
      return { events: page.map(decodeEvent), next };
    },
    async histogram({ codes, since, until, bucketMs, orgId }) {
      integer(since, 'since');
      integer(until, 'until');
      positiveInteger(bucketMs, 'bucketMs');
      // Integer division on both databases: bigint / bigint on PostgreSQL, INTEGER / INTEGER on SQLite (the casts keep
      // bound parameters from arriving as REAL). `at >= since`, so truncation is floor.
      const bucket = sql<number | string>`(at - cast(${since} as bigint)) / cast(${bucketMs} as bigint)`;
      let inner = db.selectFrom('events').select(['code', bucket.as('bucket')]).where('at', '>=', since).where('at', '<', until);
      if (codes.length > 0) inner = inner.where('code', 'in', [...codes]);
      if (orgId) inner = inner.where('user_id', 'in', (eb) => eb.selectFrom('users').select('id').where('org_id', '=', orgId));
      // Grouping over a derived table: PostgreSQL would not see two parameterised copies of the bucket expression as equal.
      const rows = await db
        .selectFrom(inner.as('e'))
        .select(['e.code', 'e.bucket', (eb) => eb.fn.countAll().as('n')])
        .groupBy(['e.code', 'e.bucket'])
        .orderBy('e.bucket')
        .orderBy('e.code')
        .execute();
      return rows.map((row) => ({ code: row.code as EventCode, bucketStart: since + Number(row.bucket) * bucketMs, count: Number(row.n) }));
    },
  };
}

const CURSOR_ERROR = 'That page cursor is not valid; start from the first page.';

/** The cursor is the last row's (at, seq), opaque to callers. */
function encodeCursor(at: number, seq: number): string {
  return Buffer.from(`${at}.${seq}`, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { at: number; seq: number } {
  if (/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) {
    const match = /^(\d{1,16})\.(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (match) {
      const at = Number(match[1]);
      const seq = Number(match[2]);
      if (Number.isSafeInteger(at) && Number.isSafeInteger(seq) && encodeCursor(at, seq) === cursor) return { at, seq };
    }
  }
  throw new PortcullisError('invalid_input', { message: CURSOR_ERROR });
}

function integer(value: number, name: string): number {
  if (!Number.isSafeInteger(value)) throw new PortcullisError('invalid_input', { detail: `${name} must be an integer, got ${value}` });
  return value;
}

function positiveInteger(value: number, name: string): number {
  if (integer(value, name) <= 0) throw new PortcullisError('invalid_input', { detail: `${name} must be positive, got ${value}` });
  return value;
}
