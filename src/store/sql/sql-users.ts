// Users and organizations on SQL. Emails and org names are unique case-insensitively via a normalised key.
import { sql, type Kysely, type SqlBool, type Selectable } from 'kysely';
import { PortcullisError } from '../../domain/errors.js';
import type { Org, Role, User } from '../../domain/types.js';
import { randomId } from '../../crypto/tokens.js';
import type { NewUser, OrgStore, UserStore } from '../store.js';
import { isUniqueViolation } from './database.js';
import { toInt, type Database } from './schema.js';
import { precompile } from './prepared-queries.js';

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

function decodeUser(row: Selectable<Database['users']>): User {
  return {
    id: row.id,
    email: row.email,
    emailVerified: toInt(row.email_verified) === 1,
    name: row.name,
    passwordHash: row.password_hash,
    orgId: row.org_id,
    role: row.role as Role,
    operator: toInt(row.operator) === 1,
    disabled: toInt(row.disabled) === 1,
    createdAt: toInt(row.created_at),
    updatedAt: toInt(row.updated_at),
  };
}

function decodeOrg(row: Selectable<Database['orgs']>): Org {
  return {
    id: row.id,
    name: row.name,
    createdAt: toInt(row.created_at),
    sessionIdleMs: toInt(row.session_idle_ms),
    sessionAbsoluteMs: toInt(row.session_absolute_ms),
  };
}

/** `settled`: waits for the database's queued writes (group-commit.ts) before a deletion that must follow them. */
export function sqlUserStore(db: Kysely<Database>, settled: () => Promise<void> = async () => undefined): UserStore {
  // The two lookups of every sign-in and token refresh, compiled once.
  const byId = precompile(db, ['id'], (p) => db.selectFrom('users').selectAll().where('id', '=', p.id));
  const byEmailKey = precompile(db, ['key'], (p) => db.selectFrom('users').selectAll().where('email_key', '=', p.key));
  return {
    async create(user: NewUser, now: number) {
      const row = {
        id: randomId(),
        email: user.email.trim(),
        email_key: normaliseEmail(user.email),
        email_verified: user.emailVerified ? 1 : 0,
        name: user.name ?? null,
        password_hash: user.passwordHash,
        org_id: user.orgId ?? null,
        role: user.role ?? 'member',
        operator: 0,
        disabled: 0,
        created_at: now,
        updated_at: now,
      };
      try {
        await db.insertInto('users').values(row).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new PortcullisError('conflict', { message: 'A user with this email already exists.' });
        throw error;
      }
      return decodeUser(row);
    },
    async findById(id) {
      const row = (await byId({ id })).rows[0];
      return row ? decodeUser(row) : null;
    },
    async findByEmail(email) {
      const row = (await byEmailKey({ key: normaliseEmail(email) })).rows[0];
      return row ? decodeUser(row) : null;
    },
    async list({ limit, offset, orgId }) {
      let query = db.selectFrom('users').selectAll().orderBy('created_at', 'asc').orderBy('id').limit(limit).offset(offset);
      if (orgId) query = query.where('org_id', '=', orgId);
      return (await query.execute()).map(decodeUser);
    },
    async count() {
      const row = await db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async setPasswordHash(id, passwordHash, now) {
      await db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', id).execute();
    },
    async setEmail(id, email, now) {
      try {
        await db.updateTable('users').set({ email: email.trim(), email_key: normaliseEmail(email), updated_at: now }).where('id', '=', id).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new PortcullisError('conflict', { message: 'A user with this email already exists.' });
        throw error;
      }
    },
    async setEmailVerified(id, now) {
      await db.updateTable('users').set({ email_verified: 1, updated_at: now }).where('id', '=', id).execute();
    },
    async setName(id, name, now) {
      await db.updateTable('users').set({ name, updated_at: now }).where('id', '=', id).execute();
    },
    async setMembership(id, orgId, role, now) {
      await db.updateTable('users').set({ org_id: orgId, role, updated_at: now }).where('id', '=', id).execute();
    },
    async setDisabled(id, disabled, now) {
      await db.updateTable('users').set({ disabled: disabled ? 1 : 0, updated_at: now }).where('id', '=', id).execute();
    },
    async setOperator(id, operator, now) {
      await db.updateTable('users').set({ operator: operator ? 1 : 0, updated_at: now }).where('id', '=', id).execute();
    },
    async search({ query, orgId, limit, offset }) {
      const text = (query ?? '').trim().toLowerCase();
      // email_key is the lowercased email; lower(name) folds the name. The pattern is lowercased here too, so the match
      // is case-insensitive on both databases (SQLite's LIKE folds ASCII only, PostgreSQL's LIKE folds nothing).
      const pattern = `%${escapeLike(text)}%`;
      let base = db.selectFrom('users');
      if (orgId) base = base.where('org_id', '=', orgId);
      if (text) {
        base = base.where((eb) =>
          eb.or([sql<SqlBool>`email_key like ${pattern} escape '!'`, sql<SqlBool>`lower(name) like ${pattern} escape '!'`]),
        );
      }
      const [rows, counted] = await Promise.all([
        base.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute(),
        base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { users: rows.map(decodeUser), total: Number(counted.n) };
    },
    async delete(id) {
      // Children first (most also cascade, but explicit deletes do not depend on foreign-key enforcement). Events stay:
      // they are the security history and keep the user id. Provider models (grants, tokens, provider sessions) go too.
      // Provider models saved a moment ago may still be queued for their commit (group-commit.ts): let them land first,
      // so that none outlives the deletion.
      await settled();
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('sessions').where('user_id', '=', id).execute();
        await trx.deleteFrom('link_tokens').where('user_id', '=', id).execute();
        await trx.deleteFrom('passkeys').where('user_id', '=', id).execute();
        await trx.deleteFrom('mfa_totp').where('user_id', '=', id).execute();
        await trx.deleteFrom('recovery_codes').where('user_id', '=', id).execute();
        await trx.deleteFrom('known_devices').where('user_id', '=', id).execute();
        await trx.deleteFrom('login_locations').where('user_id', '=', id).execute();
        await trx.deleteFrom('oidc_models').where('account_id', '=', id).execute();
        const result = await trx.deleteFrom('users').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) === 1;
      });
    },
  };
}

/** Escapes LIKE wildcards (and the escape character itself, `!`) so the text matches literally. */
function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

export function sqlOrgStore(db: Kysely<Database>): OrgStore {
  return {
    async create(name, now) {
      const row = { id: randomId(), name: name.trim(), name_key: name.trim().toLowerCase(), created_at: now, session_idle_ms: null, session_absolute_ms: null };
      try {
        await db.insertInto('orgs').values(row).execute();
      } catch (error) {
        if (isUniqueViolation(error)) throw new PortcullisError('conflict', { message: `An organization named "${name}" already exists.` });
        throw error;
      }
      return decodeOrg(row);
    },
    async findById(id) {
      const row = await db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? decodeOrg(row) : null;
    },
    async findByName(name) {
      const row = await db.selectFrom('orgs').selectAll().where('name_key', '=', name.trim().toLowerCase()).executeTakeFirst();
      return row ? decodeOrg(row) : null;
    },
    async list() {
      return (await db.selectFrom('orgs').selectAll().orderBy('name_key').execute()).map(decodeOrg);
    },
    async setSessionLimits(id, { idleMs, absoluteMs }) {
      const result = await db.updateTable('orgs').set({ session_idle_ms: idleMs, session_absolute_ms: absoluteMs }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
