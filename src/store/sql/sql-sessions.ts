// Browser sessions and email-link tokens on SQL; single-use (and single-expiry) is enforced by a conditional UPDATE.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { LinkPurpose, LinkToken, Session } from '../../domain/types.js';
import type { LinkTokenStore, SessionStore } from '../store.js';
import { toInt, type Database } from './schema.js';
import { precompile } from './prepared-queries.js';

function decodeSession(row: Selectable<Database['sessions']>): Session {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    userId: row.user_id,
    createdAt: toInt(row.created_at),
    lastSeenAt: toInt(row.last_seen_at),
    ip: row.ip,
    userAgent: row.user_agent,
    revokedAt: toInt(row.revoked_at),
    idleMs: toInt(row.idle_ms),
    absoluteMs: toInt(row.absolute_ms),
    endReason: row.end_reason,
  };
}

function decodeLink(row: Selectable<Database['link_tokens']>): LinkToken {
  return {
    id: row.id,
    purpose: row.purpose as LinkPurpose,
    secretHash: row.secret_hash,
    userId: row.user_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: toInt(row.created_at),
    expiresAt: toInt(row.expires_at),
    usedAt: toInt(row.used_at),
  };
}

export function sqlSessionStore(db: Kysely<Database>): SessionStore {
  // Read on every hosted page, status poll and token refresh: compiled once.
  const byId = precompile(db, ['id'], (p) => db.selectFrom('sessions').selectAll().where('id', '=', p.id));
  const insert = precompile(db, ['id', 'secret_hash', 'user_id', 'created_at', 'last_seen_at', 'ip', 'user_agent', 'revoked_at', 'idle_ms', 'absolute_ms', 'end_reason'], (p) =>
    db.insertInto('sessions').values(p),
  );
  return {
    async create(s) {
      await insert({
        id: s.id,
        secret_hash: s.secretHash,
        user_id: s.userId,
        created_at: s.createdAt,
        last_seen_at: s.lastSeenAt,
        ip: s.ip,
        user_agent: s.userAgent,
        revoked_at: s.revokedAt,
        idle_ms: s.idleMs,
        absolute_ms: s.absoluteMs,
        end_reason: s.endReason,
      });
    },
    async findById(id) {
      const row = (await byId({ id })).rows[0];
      return row ? decodeSession(row) : null;
    },
    async touch(id, lastSeenAt) {
      await db.updateTable('sessions').set({ last_seen_at: lastSeenAt }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    },
    async revoke(id, now, reason = 'revoked') {
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: now, end_reason: reason })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async revokeAllForUser(userId, now) {
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: now, end_reason: 'revoked' })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async listActiveForUser(userId) {
      const rows = await db.selectFrom('sessions').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).orderBy('last_seen_at', 'desc').execute();
      return rows.map(decodeSession);
    },
    async endExpired(now, defaults, limit) {
      // Each row's own limits, else the deployment's. The arithmetic stays in SQL (bigint on PostgreSQL).
      const absoluteDue = sql<boolean>`created_at + coalesce(absolute_ms, ${defaults.absoluteMs}) <= ${now}`;
      const idleDue = sql<boolean>`last_seen_at + coalesce(idle_ms, ${defaults.idleMs}) <= ${now}`;
      const candidates = await db
        .selectFrom('sessions')
        .select('id')
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([absoluteDue, idleDue]))
        .orderBy('last_seen_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      const ended: Session[] = [];
      for (const { id } of candidates) {
        // Conditional on still being open (and still due): of racing callers, exactly one updates each row.
        const row = await db
          .updateTable('sessions')
          .set({ revoked_at: now, end_reason: sql<string>`case when ${absoluteDue} then 'absolute' else 'idle' end` })
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .where((eb) => eb.or([absoluteDue, idleDue]))
          .returningAll()
          .executeTakeFirst();
        if (row) ended.push(decodeSession(row));
      }
      return ended;
    },
    async claimEndedForNotice(now, limit) {
      const candidates = await db
        .selectFrom('sessions')
        .select('id')
        .where('apps_notified_at', 'is', null)
        .where('revoked_at', 'is not', null)
        .orderBy('revoked_at')
        .limit(limit)
        .execute();
      const claimed: Session[] = [];
      for (const { id } of candidates) {
        const row = await db.updateTable('sessions').set({ apps_notified_at: now }).where('id', '=', id).where('apps_notified_at', 'is', null).returningAll().executeTakeFirst();
        if (row) claimed.push(decodeSession(row));
      }
      return claimed;
    },
    async capLimitsForOrg(orgId, { idleMs, absoluteMs }) {
      // Only ever shortens: a null (deployment) or longer limit becomes the new one; a shorter own limit stays.
      const members = db.selectFrom('users').select('id').where('org_id', '=', orgId);
      const result = await db
        .updateTable('sessions')
        .set({
          idle_ms: sql<number>`case when idle_ms is null or idle_ms > ${idleMs} then ${idleMs} else idle_ms end`,
          absolute_ms: sql<number>`case when absolute_ms is null or absolute_ms > ${absoluteMs} then ${absoluteMs} else absolute_ms end`,
        })
        .where('revoked_at', 'is', null)
        .where('user_id', 'in', members)
        .where((eb) =>
          eb.or([eb('idle_ms', 'is', null), eb('idle_ms', '>', idleMs), eb('absolute_ms', 'is', null), eb('absolute_ms', '>', absoluteMs)]),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export function sqlLinkTokenStore(db: Kysely<Database>): LinkTokenStore {
  return {
    async create(link) {
      await db
        .insertInto('link_tokens')
        .values({
          id: link.id,
          purpose: link.purpose,
          secret_hash: link.secretHash,
          user_id: link.userId,
          data: JSON.stringify(link.data),
          created_at: link.createdAt,
          expires_at: link.expiresAt,
          used_at: link.usedAt,
        })
        .execute();
    },
    async findById(id) {
      const row = await db.selectFrom('link_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? decodeLink(row) : null;
    },
    async consume(id, now) {
      const result = await db
        .updateTable('link_tokens')
        .set({ used_at: now })
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
