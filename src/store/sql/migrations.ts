// Schema migrations, written once with types that mean the same on SQLite and PostgreSQL.
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

const initial = (dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('orgs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('name_key', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('email_key', 'text', (c) => c.notNull().unique())
      .addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('name', 'text')
      .addColumn('password_hash', 'text')
      .addColumn('org_id', 'text', (c) => c.references('orgs.id'))
      .addColumn('role', 'text', (c) => c.notNull().defaultTo('member'))
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('users_org_idx').on('users').column('org_id').execute();
    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();
    await db.schema
      .createTable('clients')
      .addColumn('client_id', 'text', (c) => c.primaryKey())
      .addColumn('metadata', 'text', (c) => c.notNull())
      .addColumn('first_party', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('alg', 'text', (c) => c.notNull())
      .addColumn('sealed_jwk', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('link_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('purpose', 'text', (c) => c.notNull())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
      .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema
      .createTable('events')
      .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('code', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('identifier', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('client_id', 'text')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
      .execute();
    await db.schema.createIndex('events_user_idx').on('events').columns(['user_id', 'at']).execute();
    await db.schema.createIndex('events_at_idx').on('events').column('at').execute();
    await db.schema
      .createTable('oidc_models')
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('grant_id', 'text')
      .addColumn('uid', 'text')
      .addColumn('user_code', 'text')
      .addColumn('expires_at', 'bigint')
      .addColumn('consumed_at', 'bigint')
      .addPrimaryKeyConstraint('oidc_models_pk', ['model', 'id'])
      .execute();
    await db.schema.createIndex('oidc_models_grant_idx').on('oidc_models').column('grant_id').execute();
    await db.schema.createIndex('oidc_models_uid_idx').on('oidc_models').columns(['model', 'uid']).execute();
    await db.schema.createIndex('oidc_models_expires_idx').on('oidc_models').column('expires_at').execute();
  },
});

const mail = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('outbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('to_address', 'text', (c) => c.notNull())
      .addColumn('template', 'text', (c) => c.notNull())
      .addColumn('sealed_content', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('locked_until', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('sent_at', 'bigint')
      .execute();
    await db.schema.createIndex('outbox_due_idx').on('outbox').columns(['status', 'next_attempt_at']).execute();
    await db.schema
      .createTable('dev_mailbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('to_address', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('text_body', 'text', (c) => c.notNull())
      .addColumn('html_body', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('counters')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .execute();
  },
});

const accountIndex = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('oidc_models').addColumn('account_id', 'text').execute();
    await db.schema.createIndex('oidc_models_account_idx').on('oidc_models').column('account_id').execute();
  },
});

const protection = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('login_attempts')
      .addColumn('identifier', 'text', (c) => c.notNull())
      .addColumn('ip_key', 'text', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('last_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('login_attempts_pk', ['identifier', 'ip_key'])
      .execute();
    await db.schema.createIndex('login_attempts_count_idx').on('login_attempts').columns(['count', 'last_at']).execute();
    await db.schema
      .createTable('rate_buckets')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('tokens', 'double precision', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('once_keys')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
  },
});

// IP reputation lists: one row per list (its revision lets matchers skip unchanged reloads) and one per CIDR.
const ipLists = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('ip_lists')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('revision', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('ip_list_entries')
      .addColumn('list_name', 'text', (c) => c.notNull().references('ip_lists.name').onDelete('cascade'))
      .addColumn('cidr', 'text', (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('added_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('ip_list_entries_pk', ['list_name', 'cidr'])
      .execute();
  },
});

// Second factors: one TOTP row per user (secrets sealed, the last used step kept against replay) and hashed recovery codes.
const mfa = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('mfa_totp')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('sealed_secret', 'text')
      .addColumn('sealed_pending_secret', 'text')
      .addColumn('pending_at', 'bigint')
      .addColumn('last_step', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('confirmed_at', 'bigint')
      .execute();
    await db.schema
      .createTable('recovery_codes')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
      .execute();
  },
});

// Passkeys (WebAuthn credentials): credential ids are unique across users; a user's rows go with the user.
const passkeys = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('passkeys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('credential_id', 'text', (c) => c.notNull().unique())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('counter', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('transports', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('backup_eligible', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('backed_up', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('device_type', 'text', (c) => c.notNull())
      .addColumn('aaguid', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .execute();
    await db.schema.createIndex('passkeys_user_idx').on('passkeys').column('user_id').execute();
  },
});

// Known devices (hashed device cookie per user, upserted on every sign-in) and login locations (the baseline for
// impossible travel and new-country checks). Both go with the user. Login locations number their rows in insertion
// order so that "the latest login" is well defined when two share a timestamp.
const devices = (dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('known_devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('device_hash', 'text', (c) => c.notNull())
      .addColumn('browser', 'text')
      .addColumn('os', 'text')
      .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('last_ip', 'text')
      .addColumn('last_location', 'text')
      .addUniqueConstraint('known_devices_user_hash_key', ['user_id', 'device_hash'])
      .execute();
    await db.schema.createIndex('known_devices_user_seen_idx').on('known_devices').columns(['user_id', 'last_seen_at']).execute();
    await db.schema.createIndex('known_devices_seen_idx').on('known_devices').column('last_seen_at').execute();
    await db.schema
      .createTable('login_locations')
      .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('ip', 'text', (c) => c.notNull())
      .addColumn('country_code', 'text')
      .addColumn('latitude', 'double precision')
      .addColumn('longitude', 'double precision')
      .addColumn('accuracy_km', 'double precision')
      .addColumn('label', 'text')
      .execute();
    await db.schema.createIndex('login_locations_user_at_idx').on('login_locations').columns(['user_id', 'at']).execute();
    await db.schema.createIndex('login_locations_at_idx').on('login_locations').column('at').execute();
  },
});

// Session limits: each session keeps the limits it was created under (null: the deployment's) and why it ended; an
// organization may set shorter limits of its own. The index serves the expiry sweep, which scans open sessions.
const sessionLimits = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('sessions').addColumn('idle_ms', 'bigint').execute();
    await db.schema.alterTable('sessions').addColumn('absolute_ms', 'bigint').execute();
    await db.schema.alterTable('sessions').addColumn('end_reason', 'text').execute();
    await db.schema.createIndex('sessions_open_idx').on('sessions').columns(['revoked_at', 'last_seen_at']).execute();
    await db.schema.alterTable('orgs').addColumn('session_idle_ms', 'bigint').execute();
    await db.schema.alterTable('orgs').addColumn('session_absolute_ms', 'bigint').execute();
  },
});

/** Ended sessions whose apps have been told (back-channel logout); older ended sessions count as told. */
const sessionNotices = (): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('sessions').addColumn('apps_notified_at', 'bigint').execute();
    await sql`update sessions set apps_notified_at = revoked_at where revoked_at is not null`.execute(db);
    await db.schema.createIndex('sessions_notice_idx').on('sessions').columns(['apps_notified_at', 'revoked_at']).execute();
  },
});

/** Operators, user search and event queries (filled in by the admin-store change). */
const adminQueries = (_dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    // Operators: installation-wide administrators; nobody is one until promoted.
    await db.schema.alterTable('users').addColumn('operator', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    // User search pages newest first. (Substring search cannot use a b-tree index; email_key is already indexed.)
    await db.schema.createIndex('users_created_idx').on('users').columns(['created_at', 'id']).execute();
    // Event queries by IP and by code (the histogram, code filters), each within a time range. (user_id, at) and (at)
    // exist since 0001; ties on `at` are broken by `seq`, the primary key.
    await db.schema.createIndex('events_ip_at_idx').on('events').columns(['ip', 'at']).execute();
    await db.schema.createIndex('events_code_at_idx').on('events').columns(['code', 'at']).execute();
  },
});

/**
 * Webhooks (URL, subscribed codes as a JSON array, the signing secret sealed) and their delivery outbox, claimed under
 * a lease like mail. A webhook's deliveries go with it. Indexes serve claiming (status, due time) and the delivery
 * log (newest first, overall or per webhook).
 */
const webhooks = (_dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('webhooks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('codes', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('sealed_secret', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_code', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint')
      .addColumn('locked_until', 'bigint')
      .addColumn('last_status', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('delivered_at', 'bigint')
      .execute();
    await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('webhook_deliveries_hook_idx').on('webhook_deliveries').columns(['webhook_id', 'created_at']).execute();
    await db.schema.createIndex('webhook_deliveries_created_idx').on('webhook_deliveries').column('created_at').execute();
  },
});

/** Runtime attack-protection settings and their history. */
const settings = (_dialect: SqlDialect): Migration => ({
  async up(db: Kysely<unknown>) {
    // Every version is a row; the newest is in force. The primary key on revision makes concurrent writers conflict.
    await db.schema
      .createTable('settings_versions')
      .addColumn('revision', 'integer', (c) => c.primaryKey())
      .addColumn('values_json', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
});

/**
 * oidc_models' lookup indexes cover only the rows that have the column: login flows, CAPTCHA records and
 * client-credentials tokens have no grant, uid or account, and no longer pay for three index entries on every write.
 * `column = ?` implies `column IS NOT NULL`, so SQLite and PostgreSQL use the partial indexes for the same lookups.
 */
const partialOidcIndexes = (): Migration => ({
  async up(db: Kysely<unknown>) {
    for (const name of ['oidc_models_grant_idx', 'oidc_models_uid_idx', 'oidc_models_account_idx']) await db.schema.dropIndex(name).execute();
    await sql`create index oidc_models_grant_idx on oidc_models (grant_id) where grant_id is not null`.execute(db);
    await sql`create index oidc_models_uid_idx on oidc_models (model, uid) where uid is not null`.execute(db);
    await sql`create index oidc_models_account_idx on oidc_models (account_id) where account_id is not null`.execute(db);
  },
});

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return {
    async getMigrations() {
      return { '0001_initial': initial(dialect), '0002_mail_counters': mail(), '0003_oidc_account_index': accountIndex(), '0004_protection': protection(), '0005_ip_lists': ipLists(), '0006_mfa': mfa(), '0007_passkeys': passkeys(), '0008_devices': devices(dialect), '0009_session_limits': sessionLimits(), '0010_session_notices': sessionNotices(),
        '0011_admin_queries': adminQueries(dialect),
        '0012_webhooks': webhooks(dialect),
        '0013_settings': settings(dialect),
        '0014_partial_oidc_indexes': partialOidcIndexes(),
      };
    },
  };
}
