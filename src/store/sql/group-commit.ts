// Group commit for SQLite's hot single-statement writes (ADR 0013). Each commit on SQLite writes WAL frames and
// updates the WAL index: about 50 µs of CPU, more than the insert itself. Writes that arrive in the same turn of the
// event loop (several token grants, say) are run in one transaction at the end of that turn, and each caller's promise
// settles only after that transaction has committed: nothing is acknowledged before it is stored. A statement that
// fails on a constraint (a unique violation, say) rejects its own caller only; any other failure rolls the batch
// back and runs its writes again one by one, so each caller hears only its own write's outcome.
import type { CompiledQuery, Kysely, QueryResult } from 'kysely';

export type QueryExecutor = <R>(query: CompiledQuery<R>) => Promise<QueryResult<R>>;

interface Pending {
  query: CompiledQuery<unknown>;
  resolve: (result: QueryResult<unknown>) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitStats {
  /** Transactions (or lone statements) flushed, and the writes they carried. */
  flushes: number;
  writes: number;
}

export interface GroupCommit {
  execute: QueryExecutor;
  /** Resolves once every write queued so far has been committed or refused (before a transaction that must follow them, or close). */
  settled(): Promise<void>;
  stats(): GroupCommitStats;
}

/** Failures of the database rather than of one statement: a replay would only wait for them again, write by write. */
const SYSTEMIC = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|NOMEM|CANTOPEN|CORRUPT|NOTADB|READONLY|PROTOCOL|INTERRUPT)/;

/**
 * Writes run in the order they were queued, batch after batch. Two rules for callers:
 * - everything that changes the same rows must go through the same queue (or wait for `settled()` first): a statement
 *   run directly could overtake a write queued before it;
 * - never queue a write, or wait for `settled()`, inside a `db.transaction()` callback on SQLite: the transaction
 *   holds the one connection the batch needs, so both would wait for ever.
 */
export function groupCommit(db: Kysely<any>): GroupCommit {
  let queue: Pending[] = [];
  // The batch being formed in this turn: settles once it has run (and, batches running in order, all before it).
  let forming: { done: Promise<void>; finish: () => void } | null = null;
  const stats: GroupCommitStats = { flushes: 0, writes: 0 };

  const run = async (batch: Pending[]): Promise<void> => {
    stats.flushes++;
    stats.writes += batch.length;
    if (batch.length === 1) {
      // Alone in its turn: a transaction would only add two statements.
      const only = batch[0]!;
      await db.executeQuery(only.query).then(only.resolve, only.reject);
      return;
    }
    const outcomes: Array<{ ok: true; result: QueryResult<unknown> } | { ok: false; error: unknown }> = [];
    try {
      await db.transaction().execute(async (trx) => {
        for (const write of batch) {
          try {
            outcomes.push({ ok: true, result: await trx.executeQuery(write.query) });
          } catch (error) {
            // Only a constraint violation is the statement's own: SQLite undoes that statement and the transaction
            // goes on. Anything else (I/O, a full disk) may have ended the transaction, so the whole batch is undone.
            if (!String((error as { code?: unknown } | null)?.code ?? '').startsWith('SQLITE_CONSTRAINT')) throw error;
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The transaction was rolled back, so none of the batch is stored. A locked, full or failing database fails
      // every write in it alike: all callers hear so at once.
      if (SYSTEMIC.test(String((error as { code?: unknown } | null)?.code ?? ''))) {
        for (const write of batch) write.reject(error);
        return;
      }
      // One statement failed (a bad value, say): each write is run again on its own, in order, and its caller hears
      // its own outcome, so one bad write does not take its neighbours down with it.
      for (const write of batch) await db.executeQuery(write.query).then(write.resolve, write.reject);
      return;
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.result);
      else write.reject(outcome.error);
    });
  };

  // Batches run strictly one after another, a replay included, so writes apply in the order they were queued.
  let previous: Promise<void> = Promise.resolve();
  const flush = (): void => {
    const batch = queue;
    const { finish } = forming!;
    queue = [];
    forming = null;
    previous = previous
      .then(() => run(batch))
      // Not expected (run answers every write itself), but no caller may be left waiting, nor the chain broken.
      .catch((error: unknown) => {
        for (const write of batch) write.reject(error);
      })
      .finally(finish);
  };

  const execute = (<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> =>
    new Promise<QueryResult<R>>((resolve, reject) => {
      queue.push({ query, resolve: resolve as Pending['resolve'], reject });
      if (!forming) {
        let finish!: () => void;
        forming = { done: new Promise<void>((resolve) => (finish = resolve)), finish };
        setImmediate(flush);
      }
    })) as QueryExecutor;

  return {
    execute,
    // Only what is queued now: writes queued later, under steady traffic, do not keep the caller waiting.
    settled: () => forming?.done ?? previous,
    stats: () => ({ ...stats }),
  };
}
