// Delivers the durable outbox: claims due messages under a lease, sends them, and records success or a retry with backoff.
import type { Clock } from '../domain/clock.js';
import { unseal } from '../crypto/seal.js';
import type { OutboxMessage, OutboxStore } from '../store/store.js';
import { nextAttemptAt } from './backoff.js';
import type { MailTransport } from './message.js';

export interface WorkerLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OutboxWorkerDeps {
  outbox: OutboxStore;
  transport: MailTransport;
  sealKey: Buffer;
  clock: Clock;
  logger: WorkerLogger;
  from: string;
  maxAttempts: number;
  retryBaseDelayMs: number;
  pollIntervalMs: number;
  batchSize?: number;
  /** How long a claim lasts; a worker that dies mid-batch releases its messages when this runs out. */
  leaseMs?: number;
  /** Jitter source for retry times (values in [0, 1)). */
  random?: () => number;
}

export interface OutboxWorker {
  start(): void;
  /** Stops polling and waits for a run in progress. */
  stop(): Promise<void>;
  /** Claims and delivers one batch; returns how many messages were sent. Never throws. */
  runOnce(): Promise<number>;
}

interface SealedMail {
  subject: string;
  text: string;
  html: string;
}

/** Keeps what helps an operator (code, SMTP reply) and drops anything credential-shaped, such as a URL's user:pass. */
function describeError(error: unknown): string {
  const e = error as { code?: unknown; responseCode?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  return `${code}${message}`.replace(/\/\/[^/\s@]*@/g, '//[redacted]@').slice(0, 500);
}

type Settings = OutboxWorkerDeps & { batchSize: number; leaseMs: number; random: () => number };

async function recordFailure(deps: Settings, message: OutboxMessage, reason: string, permanent: boolean): Promise<void> {
  const attempts = message.attempts + 1;
  const next = permanent ? null : nextAttemptAt(attempts, deps.clock.now(), deps.retryBaseDelayMs, deps.maxAttempts, deps.random);
  const log = { outboxId: message.id, template: message.template, attempts, error: reason, retryAt: next };
  if (next === null) deps.logger.error(log, 'mail delivery failed for good');
  else deps.logger.warn(log, 'mail delivery failed; will retry');
  await deps.outbox.markAttemptFailed(message.id, reason, next);
}

/** Sends one claimed message and records the outcome; returns true when it was sent. */
async function deliver(deps: Settings, message: OutboxMessage): Promise<boolean> {
  // Past the lease another worker may have claimed it; sending anyway could deliver it twice.
  if (message.lockedUntil !== null && deps.clock.now() >= message.lockedUntil) return false;
  let mail: SealedMail;
  try {
    if (message.sealedContent === null) throw new Error('no content');
    mail = JSON.parse(unseal(deps.sealKey, message.sealedContent)) as SealedMail;
  } catch {
    await recordFailure(deps, message, 'the stored content could not be unsealed (was the server secret changed?)', true);
    return false;
  }
  try {
    await deps.transport.send({ to: message.to, from: deps.from, subject: mail.subject, text: mail.text, html: mail.html, messageId: `<${message.id}@portcullis>` });
  } catch (error) {
    await recordFailure(deps, message, describeError(error), false);
    return false;
  }
  await deps.outbox.markSent(message.id, deps.clock.now());
  deps.logger.info({ outboxId: message.id, template: message.template, attempts: message.attempts + 1 }, 'mail sent');
  return true;
}

async function runBatch(deps: Settings): Promise<{ claimed: number; sent: number }> {
  let claimed: OutboxMessage[];
  try {
    claimed = await deps.outbox.claimDue(deps.clock.now(), deps.batchSize, deps.leaseMs);
  } catch (error) {
    deps.logger.error({ error: describeError(error) }, 'mail outbox claim failed');
    return { claimed: 0, sent: 0 };
  }
  // The lease is short so a crashed node's mail goes out again within seconds; a live worker keeps renewing it.
  const pending = new Set(claimed.map((m) => m.id));
  let heldUntil = claimed[0]?.lockedUntil ?? null;
  const heartbeat =
    claimed.length > 0
      ? setInterval(() => {
          if (heldUntil === null) return;
          const until = deps.clock.now() + deps.leaseMs;
          const from = heldUntil;
          heldUntil = until;
          deps.outbox.extendLease([...pending], from, until).catch((error: unknown) => deps.logger.warn({ error: describeError(error) }, 'mail lease could not be renewed'));
        }, Math.max(50, Math.floor(deps.leaseMs / 3)))
      : null;
  heartbeat?.unref();
  try {
    const results = await Promise.all(
      claimed.map((message) =>
        deliver(deps, message)
          .catch((error: unknown) => {
            // Usually the store is unreachable; the lease runs out and a later run retries.
            deps.logger.error({ outboxId: message.id, error: describeError(error) }, 'mail outbox update failed');
            return false;
          })
          .finally(() => pending.delete(message.id)),
      ),
    );
    return { claimed: claimed.length, sent: results.filter(Boolean).length };
  } finally {
    if (heartbeat) clearInterval(heartbeat);
  }
}

export function createOutboxWorker(options: OutboxWorkerDeps): OutboxWorker {
  const deps: Settings = { ...options, batchSize: options.batchSize ?? 10, leaseMs: options.leaseMs ?? 20_000, random: options.random ?? Math.random };
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  let started = false;

  function schedule(delayMs: number): void {
    if (!started) return;
    timer = setTimeout(tick, delayMs);
    timer.unref();
  }

  function tick(): void {
    timer = null;
    const run = runBatch(deps);
    running = run;
    void run.then(({ claimed }) => {
      running = null;
      // A full batch means more is probably due: continue at once instead of waiting a poll interval.
      schedule(claimed >= deps.batchSize ? 0 : deps.pollIntervalMs);
    });
  }

  return {
    start() {
      if (started) return;
      started = true;
      schedule(0);
    },
    async stop() {
      started = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
    async runOnce() {
      return (await runBatch(deps)).sent;
    },
  };
}
