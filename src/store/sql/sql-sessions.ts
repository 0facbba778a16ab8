// Browser sessions and email-link tokens on SQL; single-use is enforced by a conditional UPDATE.
import type { Kysely, Selectable } from 'kysely';
import type { LinkPurpose, LinkToken, Session } from '../../domain/types.js';
import type { LinkTokenStore, SessionStore } from '../store.js';
import { toInt, type Database } from './schema.js';

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
  return {
    async create(s) {
      await db
        .insertInto('sessions')
        .values({
          id: s.id,
          secret_hash: s.secretHash,
          user_id: s.userId,
          created_at: s.createdAt,
          last_seen_at: s.lastSeenAt,
          ip: s.ip,
          user_agent: s.userAgent,
          revoked_at: s.revokedAt,
        })
        .execute();
    },
    async findById(id) {
      const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? decodeSession(row) : null;
    },
    async touch(id, lastSeenAt) {
      await db.updateTable('sessions').set({ last_seen_at: lastSeenAt }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    },
    async revoke(id, now) {
      const result = await db.updateTable('sessions').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async revokeAllForUser(userId, now) {
      const result = await db.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async listActiveForUser(userId) {
      const rows = await db.selectFrom('sessions').selectAll().where('user_id', '=', userId).where('revoked_at', 'is', null).orderBy('last_seen_at', 'desc').execute();
      return rows.map(decodeSession);
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
