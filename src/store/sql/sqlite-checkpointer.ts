// Moves SQLite's WAL checkpoints off the event loop. By default the connection that commits the 1000th WAL page
// copies the WAL back into the database file and fsyncs it, on the main thread: a ~10 ms stall every few dozen
// logins. Here the app's connection never checkpoints; a worker thread with its own connection runs a PASSIVE
// checkpoint (which never blocks writers) every `intervalMs`. If the worker dies or its checkpoints fail 5 times in a
// row, the connection checkpoints itself again (ADR 0012).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
let failures = 0;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
  } catch (error) {
    failures++;
    if (failures === 1) parentPort.postMessage({ error: String(error && error.message || error) });
    // Failing for good (permissions, I/O): exit, so the connection checkpoints itself again and the WAL stays bounded.
    if (failures >= workerData.maxFailures) process.exit(1);
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(sqlite: SQLite.Database, file: string, options: { intervalMs: number; onError?: (message: string) => void }): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, file, intervalMs: options.intervalMs, maxFailures: 5 } });
  worker.unref();
  sqlite.pragma('wal_autocheckpoint = 0');
  let running = true;
  const fallBack = (message: string): void => {
    if (!running) return;
    running = false;
    // The worker is gone: the connection checkpoints itself again, as SQLite does by default.
    if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000');
    options.onError?.(message);
  };
  worker.on('message', (message: { error?: string }) => {
    if (message.error) options.onError?.(`WAL checkpoint failed: ${message.error}`);
  });
  worker.on('error', (error) => fallBack(`WAL checkpoint worker failed: ${error.message}`));
  worker.on('exit', (code) => {
    if (code !== 0) fallBack(`WAL checkpoint worker exited with code ${code}`);
  });
  return {
    async stop() {
      if (!running) return;
      running = false;
      // Held while it finishes: an unref'd worker would let the process end with this promise pending.
      worker.ref();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('stop');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
