// Opens Kysely on embedded SQLite (WAL, foreign keys) or PostgreSQL, and hides their differences.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { migrationProvider, type SqlDialect } from './migrations.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { groupCommit, type QueryExecutor } from './group-commit.js';
import { boundedMemo } from '../../domain/bounded-memo.js';

export interface SqlDatabase {
  db: Kysely<Database>;
  dialect: SqlDialect;
  /** Runs a hot single-statement write: on SQLite through group commit (one transaction per event-loop turn). */
  writes: QueryExecutor;
  /** Resolves once every write handed to `writes` so far has settled; a transaction touching the same rows waits for it. */
  settled(): Promise<void>;
  /** Closes the connections (and SQLite's checkpoint worker, once it has let go of the files). */
  close(): Promise<void>;
}

/** `onWarning`: a background problem that does not stop the store (e.g. the SQLite checkpoint worker failed). */
export function openDatabase(options: { databaseUrl: string; dataDir: string; sqliteFile?: string; onWarning?: (message: string) => void }): SqlDatabase {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle client error (e.g. server restart) must not crash the process.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', writes: (query) => db.executeQuery(query), settled: async () => undefined, close: () => db.destroy() };
  }
  const file = options.sqliteFile ?? join(options.dataDir, 'portcullis.sqlite');
  if (file !== ':memory:') mkdirSync(options.dataDir, { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  const checkpointer = file === ':memory:' ? null : startCheckpointer(sqlite, file, { intervalMs: 1_000, onError: options.onWarning });
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
  const group = groupCommit(db);
  return {
    db,
    dialect: 'sqlite',
    writes: group.execute,
    settled: group.settled,
    async close() {
      // Writes already queued are committed (and their callers answered) before the connection goes.
      await group.settled();
      await db.destroy();
      await checkpointer?.stop();
    },
  };
}

/**
 * Kysely prepares every query afresh on SQLite, and preparing costs more than running most of ours. Statements are
 * kept by their SQL text (the parameters are bound per run) in a bounded map (the oldest evicted first). Safe because
 * better-sqlite3 runs each statement synchronously to completion on the one connection (nothing here iterates).
 */
export function reusingStatements(sqlite: SQLite.Database, limit = 512): { prepare(sql: string): SQLite.Statement; close(): void } {
  const statements = boundedMemo<SQLite.Statement>(limit);
  return {
    prepare: (sql: string) => statements.get(sql, () => sqlite.prepare(sql)),
    close() {
      statements.clear();
      sqlite.close();
    },
  };
}

export async function migrateToLatest(database: SqlDatabase): Promise<string[]> {
  const migrator = new Migrator({ db: database.db, provider: migrationProvider(database.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
