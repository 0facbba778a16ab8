// SQLite's WAL checkpoints run in the checkpoint worker, not in the request that commits (ADR 0012).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openDatabase } from '../../src/store/sql/database.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('WAL checkpoints happen in the background worker, never on the connection that commits', async () => {
  // Threat: a 10 ms fsync stall on the event loop every few dozen logins (every request waits behind it).
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-ckpt-'));
  const file = join(dataDir, 'portcullis.sqlite');
  const warnings: string[] = [];
  const database = openDatabase({ databaseUrl: '', dataDir, onWarning: (m) => warnings.push(m) });
  try {
    await sql`create table scratch (id integer primary key, payload text not null)`.execute(database.db);
    const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(database.db);
    assert.equal(rows[0]?.wal_autocheckpoint, 0, 'the app connection never checkpoints itself');
    await delay(1_200);
    const before = statSync(file).size;
    // About 8 MB: twice the 1000 pages after which the connection would otherwise checkpoint on its own.
    const payload = 'x'.repeat(4_000);
    for (let i = 0; i < 2_000; i++) await sql`insert into scratch (payload) values (${payload})`.execute(database.db);
    assert.ok(statSync(file).size - before < 1_000_000, 'right after the writes, the rows are still in the WAL only');
    let grown = false;
    for (let i = 0; i < 40 && !grown; i++) {
      await delay(100);
      grown = statSync(file).size - before > 7_000_000;
    }
    assert.ok(grown, `the worker copied the WAL into the database file (size ${statSync(file).size}, before ${before})`);
    const count = await sql<{ n: number }>`select count(*) as n from scratch`.execute(database.db);
    assert.equal(Number(count.rows[0]?.n), 2_000, 'nothing was lost');
    assert.deepEqual(warnings, []);
  } finally {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
