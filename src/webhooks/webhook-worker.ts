// Delivers the webhook outbox like the mail worker: claims due deliveries under a lease, POSTs each signed, and
// records success or a retry with exponential backoff (failed for good after maxAttempts).
//
// Receivers are registered by operators only, so loopback and private addresses are allowed on purpose. Redirects
// are not followed (a 3xx counts as a failed attempt): the signed body goes only to the registered URL.
import type { Clock } from '../domain/clock.js';
import { unseal } from '../crypto/seal.js';
import { nextAttemptAt } from '../mail/backoff.js';
import type { Store, Webhook, WebhookDelivery } from '../store/store.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signWebhook } from './signing.js';
import type { WebhookLogger } from './webhook-dispatcher.js';

export interface WebhookWorkerDeps {
  store: Pick<Store, 'webhooks'>;
  clock: Clock;
  logger: WebhookLogger;
  /** The key the secrets were sealed with (webhookSealKey(config.secret)). */
  sealKey: Buffer;
  maxAttempts: number;
  retryBaseDelayMs: number;
  pollIntervalMs: number;
  /** Per request: connecting, sending and receiving the response status. */
  timeoutMs: number;
  fetch?: typeof globalThis.fetch;
  batchSize?: number;
  /** How long a claim lasts; a worker that dies mid-batch releases its deliveries when this runs out. */
  leaseMs?: number;
  /** Jitter source for retry times (values in [0, 1)). */
  random?: () => number;
}

export interface WebhookWorker {
  start(): void;
  /** Stops polling and waits for a run in progress. */
  stop(): Promise<void>;
  /** Claims and sends one batch; returns how many deliveries succeeded. Never throws. */
  runOnce(): Promise<number>;
}

type Settings = WebhookWorkerDeps & { batchSize: number; leaseMs: number; random: () => number; fetch: typeof globalThis.fetch };

const redact = (text: string): string => text.replace(/\/\/[^/\s@]*@/g, '//[redacted]@');

/** A short, operator-friendly reason (error code, status); URLs lose any user:pass, and the secret is never involved. */
function describeError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown } | null;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timed out after ${timeoutMs} ms`;
  // fetch wraps network failures as TypeError("fetch failed") with the socket error as the cause.
  const inner = (e?.cause ?? e) as { code?: unknown; message?: unknown } | null;
  const message = typeof inner?.message === 'string' && inner.message ? inner.message : typeof e?.message === 'string' ? e.message : String(error);
  const code = typeof inner?.code === 'string' && !message.startsWith(inner.code) ? `${inner.code}: ` : '';
  return redact(`${code}${message}`).slice(0, 300);
}

async function recordFailure(deps: Settings, delivery: WebhookDelivery, result: { status: number | null; error: string }, permanent: boolean): Promise<void> {
  const attempts = delivery.attempts + 1;
  const next = permanent ? null : nextAttemptAt(attempts, deps.clock.now(), deps.retryBaseDelayMs, deps.maxAttempts, deps.random);
  const log = { deliveryId: delivery.id, webhookId: delivery.webhookId, code: delivery.eventCode, attempts, status: result.status, error: result.error, retryAt: next };
  if (next === null) deps.logger.error(log, 'webhook delivery failed for good');
  else deps.logger.warn(log, 'webhook delivery failed; will retry');
  await deps.store.webhooks.markAttemptFailed(delivery.id, result, next, deps.clock.now());
}

/** Sends one claimed delivery and records the outcome; returns true when the receiver accepted it. */
async function deliver(deps: Settings, delivery: WebhookDelivery, hook: Webhook | null, leaseEnds: number): Promise<boolean> {
  // Past the lease another worker may have claimed it; sending anyway could deliver it twice.
  if (deps.clock.now() >= leaseEnds) return false;
  if (!hook) {
    await recordFailure(deps, delivery, { status: null, error: 'the webhook was removed' }, true);
    return false;
  }
  if (hook.disabled) {
    await recordFailure(deps, delivery, { status: null, error: 'the webhook is disabled' }, true);
    return false;
  }
  let secret: string;
  try {
    secret = unseal(deps.sealKey, hook.sealedSecret);
  } catch {
    await recordFailure(deps, delivery, { status: null, error: 'the signing secret could not be unsealed (was the server secret changed?)' }, true);
    return false;
  }
  let status: number;
  try {
    const response = await deps.fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Portcullis-Webhooks/1',
        [SIGNATURE_HEADER]: signWebhook(secret, deps.clock.now(), delivery.payload),
        [EVENT_HEADER]: delivery.eventCode,
        [DELIVERY_HEADER]: delivery.id,
      },
      body: delivery.payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    status = response.status;
    // Only the status matters; release the connection without reading what the receiver sent.
    await response.body?.cancel().catch(() => undefined);
    if (status < 200 || status >= 300) {
      const reason = status >= 300 && status < 400 ? `HTTP ${status}: redirects are not followed (register the final URL)` : `HTTP ${status}${response.statusText ? ` ${response.statusText.slice(0, 100)}` : ''}`;
      await recordFailure(deps, delivery, { status, error: reason }, false);
      return false;
    }
  } catch (error) {
    await recordFailure(deps, delivery, { status: null, error: describeError(error, deps.timeoutMs) }, false);
    return false;
  }
  await deps.store.webhooks.markDelivered(delivery.id, status, deps.clock.now());
  deps.logger.info({ deliveryId: delivery.id, webhookId: delivery.webhookId, code: delivery.eventCode, status, attempts: delivery.attempts + 1 }, 'webhook delivered');
  return true;
}

async function runBatch(deps: Settings): Promise<{ claimed: number; delivered: number }> {
  let claimed: WebhookDelivery[];
  const claimedAt = deps.clock.now();
  try {
    claimed = await deps.store.webhooks.claimDue(claimedAt, deps.batchSize, deps.leaseMs);
  } catch (error) {
    deps.logger.error({ error: describeError(error, deps.timeoutMs) }, 'webhook outbox claim failed');
    return { claimed: 0, delivered: 0 };
  }
  const hooks = new Map<string, Promise<Webhook | null>>();
  const results = await Promise.all(
    claimed.map(async (delivery) => {
      try {
        let hook = hooks.get(delivery.webhookId);
        if (!hook) hooks.set(delivery.webhookId, (hook = deps.store.webhooks.findById(delivery.webhookId)));
        return await deliver(deps, delivery, await hook, claimedAt + deps.leaseMs);
      } catch (error) {
        // Usually the store is unreachable; the lease runs out and a later run retries.
        deps.logger.error({ deliveryId: delivery.id, error: describeError(error, deps.timeoutMs) }, 'webhook outbox update failed');
        return false;
      }
    }),
  );
  return { claimed: claimed.length, delivered: results.filter(Boolean).length };
}

export function createWebhookWorker(options: WebhookWorkerDeps): WebhookWorker {
  const deps: Settings = {
    ...options,
    batchSize: options.batchSize ?? 10,
    // Every send is bounded by timeoutMs, so three timeouts (at least 30 s) cover a batch; a crashed node's
    // deliveries are free again that soon.
    leaseMs: options.leaseMs ?? Math.max(30_000, options.timeoutMs * 3),
    random: options.random ?? Math.random,
    fetch: options.fetch ?? globalThis.fetch,
  };
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
      return (await runBatch(deps)).delivered;
    },
  };
}
