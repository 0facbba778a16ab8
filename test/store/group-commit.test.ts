// Group commit on real SQLite: writes of one event-loop turn share a transaction, each caller hears only after the
// commit, a constraint violation fails only its own write, and any other failure undoes the batch and replays it
// write by write.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect } from 'kysely';
import { groupCommit } from '../../src/store/sql/group-commit.js';

describe('group commit (SQLite)', () => {
  let dir: string;
  let file: string;
  let db: Kysely<any>;
  let observer: SQLite.Database;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pc-group-commit-'));
    file = join(dir, 'db.sqlite');
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.exec('create table t (id text primary key, v integer not null)');
    db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
    // A second connection sees only what has been committed.
    observer = new SQLite(file, { readonly: true });
  });
  after(async () => {
    observer.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (id: string, v = 1) => CompiledQuery.raw('insert into t (id, v) values (?, ?)', [id, v]);
  const visible = (id: string) => observer.prepare('select count(*) as n from t where id = ?').get(id) as { n: number };

  it('runs the writes of one turn in one transaction, and acknowledges each only once it is committed', async () => {
    const batch = groupCommit(db);
    const writes = ['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => batch.execute(insert(id)));
    // Nothing has run yet: the batch waits for the end of the turn.
    assert.equal(visible('a1').n, 0);
    const results = await Promise.all(writes);
    for (const result of results) assert.equal(Number(result.numAffectedRows), 1);
    for (const id of ['a1', 'a2', 'a3', 'a4', 'a5']) assert.equal(visible(id).n, 1, `${id} is committed when its promise settles`);
    assert.deepEqual(batch.stats(), { flushes: 1, writes: 5 });
  });

  it('a write alone in its turn runs by itself, and later turns get their own batches', async () => {
    const batch = groupCommit(db);
    await batch.execute(insert('b1'));
    await Promise.all([batch.execute(insert('b2')), batch.execute(insert('b3'))]);
    assert.deepEqual(batch.stats(), { flushes: 2, writes: 3 });
    for (const id of ['b1', 'b2', 'b3']) assert.equal(visible(id).n, 1);
  });

  it('a unique violation fails only its own write; the rest of the batch is committed', async () => {
    const batch = groupCommit(db);
    await batch.execute(insert('c-taken'));
    const outcomes = await Promise.allSettled([batch.execute(insert('c1')), batch.execute(insert('c-taken', 2)), batch.execute(insert('c2'))]);
    assert.equal(outcomes[0].status, 'fulfilled');
    assert.equal(outcomes[1].status, 'rejected');
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason?.code), /^SQLITE_CONSTRAINT/);
    assert.equal(outcomes[2].status, 'fulfilled');
    assert.equal(visible('c1').n, 1);
    assert.equal(visible('c2').n, 1);
    assert.deepEqual(observer.prepare('select v from t where id = ?').get('c-taken'), { v: 1 }, 'the refused write changed nothing');
  });

  it('any other failure rolls the batch back and replays it write by write: only the bad write fails', async () => {
    const batch = groupCommit(db);
    const outcomes = await Promise.allSettled([batch.execute(insert('d1')), batch.execute(CompiledQuery.raw('insert into no_such_table (x) values (1)')), batch.execute(insert('d2'))]);
    assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /no such table/);
    assert.equal(visible('d1').n, 1, 'stored once, by the replay');
    assert.equal(visible('d2').n, 1);
    // The connection is not left inside a transaction: the next write commits on its own.
    await batch.execute(insert('d3'));
    assert.equal(visible('d3').n, 1);
  });

  it('settled() waits for what is queued when it is called, not for writes that keep arriving after', async () => {
    const batch = groupCommit(db);
    let running = true;
    let n = 0;
    // Steady traffic: a new write every turn for as long as the test runs.
    const traffic = (async () => {
      while (running) await batch.execute(insert(`e${n++}`));
    })();
    await new Promise((resolve) => setImmediate(resolve));
    const first = batch.execute(insert('e-first'));
    const started = performance.now();
    await batch.settled();
    const waited = performance.now() - started;
    running = false;
    await traffic;
    assert.equal(visible('e-first').n, 1, 'what was queued before settled() is committed when it resolves');
    await first;
    assert.ok(waited < 1_000, `settled() resolved while writes kept arriving (${waited.toFixed(0)} ms)`);
    assert.ok(n > 2, 'traffic was still flowing');
  });

  it('a locked database fails the batch once, without replaying each write into the lock', async () => {
    const locked = new SQLite(file);
    const sqlite = new SQLite(file);
    sqlite.pragma('busy_timeout = 300');
    const own = new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }) });
    try {
      locked.exec('begin immediate');
      const batch = groupCommit(own);
      const started = performance.now();
      const outcomes = await Promise.allSettled(['f1', 'f2', 'f3', 'f4'].map((id) => batch.execute(insert(id))));
      const took = performance.now() - started;
      assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected', 'rejected']);
      assert.match(String((outcomes[0] as PromiseRejectedResult).reason?.code), /^SQLITE_BUSY/);
      // One busy wait (300 ms) for the batch; a replay would add one per write (1.5 s in all).
      assert.ok(took < 1_000, `failed after ${took.toFixed(0)} ms`);
      locked.exec('rollback');
      assert.equal(visible('f1').n, 0);
    } finally {
      if (locked.inTransaction) locked.exec('rollback');
      locked.close();
      await own.destroy();
    }
  });
});
