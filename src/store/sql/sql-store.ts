// Assembles every SQL-backed store over one Kysely connection.
import { sql } from 'kysely';
import type { Store } from '../store.js';
import { migrateToLatest, openDatabase } from './database.js';
import { sqlClientStore, sqlSigningKeyStore } from './sql-clients.js';
import { sqlEventStore } from './sql-events.js';
import { sqlOidcModelStore } from './sql-oidc-models.js';
import { sqlLinkTokenStore, sqlSessionStore } from './sql-sessions.js';
import { sqlOrgStore, sqlUserStore } from './sql-users.js';
import { sqlDevMailboxStore, sqlOutboxStore } from './sql-mail.js';
import { sqlCounterStore } from './sql-counters.js';
import { sqlAttemptStore, sqlOnceStore, sqlRateLimitStore } from './sql-protection.js';
import { sqlIpListStore } from './sql-ip-lists.js';
import { sqlPasskeyStore } from './sql-passkeys.js';
import { sqlSettingsStore } from './sql-settings.js';
import { mfaSealKeyFrom, sqlMfaStore } from './sql-mfa.js';
import { sqlDeviceStore } from './sql-devices.js';
import { sqlLoginHistoryStore } from './sql-login-history.js';
import { sqlWebhookStore } from './sql-webhooks.js';

export interface SqlStoreOptions {
  databaseUrl: string;
  dataDir: string;
  sqliteFile?: string;
  /** Key that seals private signing keys at rest. */
  sealKey: Buffer;
  /** Key that seals TOTP secrets at rest; defaults to an HKDF sub-key of `sealKey`, so it never equals the signing-key seal. */
  mfaSealKey?: Buffer;
  /** A background problem that does not stop the store (the SQLite checkpoint worker failed). */
  onWarning?: (message: string) => void;
}

export function createSqlStore(options: SqlStoreOptions): Store {
  const database = openDatabase(options);
  const { db } = database;
  return {
    kind: database.dialect,
    users: sqlUserStore(db, database.settled),
    orgs: sqlOrgStore(db),
    sessions: sqlSessionStore(db),
    clients: sqlClientStore(db),
    signingKeys: sqlSigningKeyStore(db, options.sealKey),
    links: sqlLinkTokenStore(db),
    events: sqlEventStore(db, database.writes),
    oidc: sqlOidcModelStore(db, database.writes),
    outbox: sqlOutboxStore(db, database.dialect),
    devMailbox: sqlDevMailboxStore(db),
    counters: sqlCounterStore(db),
    attempts: sqlAttemptStore(db),
    buckets: sqlRateLimitStore(db),
    once: sqlOnceStore(db),
    ipLists: sqlIpListStore(db),
    passkeys: sqlPasskeyStore(db, database.dialect),
    settings: sqlSettingsStore(db),
    mfa: sqlMfaStore(db, options.mfaSealKey ?? mfaSealKeyFrom(options.sealKey)),
    devices: sqlDeviceStore(db),
    loginHistory: sqlLoginHistoryStore(db),
    webhooks: sqlWebhookStore(db, database.dialect),
    async migrate() {
      await migrateToLatest(database);
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await database.close();
    },
  };
}
