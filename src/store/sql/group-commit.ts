// Group commit for SQLite's hot single-statement writes (ADR 0013). Each commit on SQLite writes WAL frames and
// updates the WAL index: about 50 µs of CPU, more than the insert itself. Writes that arrive in the same turn of the
// event loop (several token grants, say) are run in one transaction at the end of that turn, and each caller's promise
// settles only after that transaction has committed: nothing is acknowledged before it is stored. A statement that
// fails on a constraint (a unique violation, say) rejects its own caller only; any other failure rejects the batch.
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

export function groupCommit(db: Kysely<any>): { execute: QueryExecutor; stats(): GroupCommitStats } {
  let queue: Pending[] = [];
  let scheduled = false;
  const stats: GroupCommitStats = { flushes: 0, writes: 0 };

  const flush = async (): Promise<void> => {
    scheduled = false;
    const batch = queue;
    queue = [];
    stats.flushes++;
    stats.writes += batch.length;
    if (batch.length === 1) {
      // Alone in its turn: a transaction would only add two statements.
      const only = batch[0]!;
      db.executeQuery(only.query).then(only.resolve, only.reject);
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
      // The commit failed: none of the batch is stored, so every caller hears so.
      for (const write of batch) write.reject(error);
      return;
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.result);
      else write.reject(outcome.error);
    });
  };

  const execute = (<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> =>
    new Promise<QueryResult<R>>((resolve, reject) => {
      queue.push({ query, resolve: resolve as Pending['resolve'], reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    })) as QueryExecutor;

  return { execute, stats: () => ({ ...stats }) };
}
