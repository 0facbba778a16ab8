// Prometheus metrics: one prom-client Registry per app instance (never the global one), fed by security events,
// argon2 verifications and HTTP responses; queue depths are read from the store when Prometheus scrapes.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EVENT_CODES, type EventCode, type SecurityEvent } from '../events/event-codes.js';
import type { BlockReason } from '../protection/decision.js';

export const LOGIN_METHODS = ['password', 'passkey', 'login_link', 'sso'] as const;
export type LoginMethod = (typeof LOGIN_METHODS)[number];

export const PROTECTION_KINDS = [
  'brute_force_block',
  'account_locked',
  'ip_throttled',
  'captcha_required',
  'captcha_failed',
  'captcha_passed',
  'breached_password',
  'risk_blocked',
  'risk_mfa',
  'risk_logged',
] as const;
export type ProtectionKind = (typeof PROTECTION_KINDS)[number];

/** Which events are logins, and how they were made. */
const LOGINS: Partial<Record<EventCode, { outcome: 'success' | 'failure'; method: LoginMethod }>> = {
  login_success: { outcome: 'success', method: 'password' },
  login_passkey_success: { outcome: 'success', method: 'passkey' },
  login_link_used: { outcome: 'success', method: 'login_link' },
  session_sso: { outcome: 'success', method: 'sso' },
  login_failed_password: { outcome: 'failure', method: 'password' },
  login_failed_unknown_user: { outcome: 'failure', method: 'password' },
  login_failed_disabled: { outcome: 'failure', method: 'password' },
  login_failed_unverified: { outcome: 'failure', method: 'password' },
  login_passkey_failed: { outcome: 'failure', method: 'passkey' },
};

/** Which events are protection decisions (login_blocked is split by its reason below). */
const PROTECTIONS: Partial<Record<EventCode, ProtectionKind>> = {
  login_block_started: 'brute_force_block',
  ip_throttled: 'ip_throttled',
  captcha_required: 'captcha_required',
  captcha_failed: 'captcha_failed',
  captcha_passed: 'captcha_passed',
  pwd_leak: 'breached_password',
  risk_blocked: 'risk_blocked',
  risk_mfa: 'risk_mfa',
  risk_logged: 'risk_logged',
};

function protectionKind(event: Pick<SecurityEvent, 'code' | 'reason'>): ProtectionKind | null {
  if (event.code === 'login_blocked') return event.reason === 'account_locked' ? 'account_locked' : 'brute_force_block';
  return Object.hasOwn(PROTECTIONS, event.code) ? (PROTECTIONS[event.code] ?? null) : null;
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface HttpSample {
  method: string;
  /** A route pattern or a fixed name ('oidc', 'unmatched'); never a raw URL. */
  route: string;
  statusCode: number;
  seconds: number;
}

export interface MetricsOptions {
  /** Pending and failed mail in the outbox, read on each scrape (e.g. `store.outbox.countByStatus`). */
  outboxDepth: () => Promise<{ pending: number; failed: number }>;
  /** Webhook deliveries waiting, read on each scrape; the gauge is left out when absent. */
  webhookDepth?: () => Promise<number>;
  /** A depth read failed: its gauge shows NaN for this scrape and the rest is still served. For logging. */
  onCollectError?: (source: 'outbox' | 'webhooks', error: unknown) => void;
  /** Node process metrics (CPU, memory, event loop, GC) with the portcullis_ prefix; default true. */
  defaultMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  /** The Content-Type of `metrics()`: Prometheus text format 0.0.4. */
  readonly contentType: string;
  /** Counts one appended security event. */
  onEvent(event: Pick<SecurityEvent, 'code' | 'reason'>): void;
  /** Counts a login refused from the refusal memory (no event is written for it; ADR 0012). */
  onRefusedFromMemory(reason: BlockReason): void;
  /** Records one argon2 verification (real or dummy). */
  observeVerify(seconds: number): void;
  /** Records one HTTP response. */
  httpObserver(sample: HttpSample): void;
  /** The exposition text; runs the gauges' callbacks. */
  metrics(): Promise<string>;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const ARGON2_BUCKETS = [0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  const registers = [registry];

  const logins = new Counter({
    name: 'portcullis_logins_total',
    help: 'Logins by outcome and method',
    labelNames: ['outcome', 'method'] as const,
    registers,
  });
  const protections = new Counter({
    name: 'portcullis_protection_decisions_total',
    help: 'Attack-protection decisions by kind',
    labelNames: ['kind'] as const,
    registers,
  });
  const events = new Counter({
    name: 'portcullis_security_events_total',
    help: 'Security events appended, by event code',
    labelNames: ['code'] as const,
    registers,
  });
  const verifies = new Counter({ name: 'portcullis_argon2_verify_total', help: 'argon2 password verifications (including dummy ones for unknown accounts)', registers });
  const verifyDuration = new Histogram({
    name: 'portcullis_argon2_verify_duration_seconds',
    help: 'Duration of argon2 password verifications',
    buckets: ARGON2_BUCKETS,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'portcullis_http_request_duration_seconds',
    help: 'HTTP response time by method, route pattern and status class',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });

  const httpSeries = new Map<string, ReturnType<typeof httpDuration.labels>>();

  // Every series exists from the start at 0, so rate() and alerts work before the first event.
  for (const outcome of ['success', 'failure'] as const) for (const method of LOGIN_METHODS) logins.labels(outcome, method).inc(0);
  for (const kind of PROTECTION_KINDS) protections.labels(kind).inc(0);
  for (const code of Object.keys(EVENT_CODES)) events.labels(code).inc(0);

  let outboxRead: Promise<{ pending: number; failed: number } | null> | null = null;
  /** Both outbox gauges share one query per scrape. */
  function readOutbox(): Promise<{ pending: number; failed: number } | null> {
    outboxRead ??= options
      .outboxDepth()
      .catch((error: unknown) => {
        options.onCollectError?.('outbox', error);
        return null;
      })
      .finally(() => {
        outboxRead = null;
      });
    return outboxRead;
  }
  new Gauge({
    name: 'portcullis_mail_outbox_pending',
    help: 'Mail messages waiting in the outbox (new or retrying)',
    registers,
    async collect() {
      this.set((await readOutbox())?.pending ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'portcullis_mail_outbox_failed',
    help: 'Mail messages that failed for good (operator action needed)',
    registers,
    async collect() {
      this.set((await readOutbox())?.failed ?? Number.NaN);
    },
  });
  const webhookDepth = options.webhookDepth;
  if (webhookDepth) {
    new Gauge({
      name: 'portcullis_webhook_deliveries_pending',
      help: 'Webhook deliveries waiting to be sent',
      registers,
      async collect() {
        try {
          this.set(await webhookDepth());
        } catch (error) {
          options.onCollectError?.('webhooks', error);
          this.set(Number.NaN);
        }
      },
    });
  }
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'portcullis_' });

  return {
    registry,
    contentType: registry.contentType,
    onEvent(event) {
      // Codes come from our own union, but a stored or foreign code must not create new series.
      // Own keys only: a code like '__proto__' must not reach the prototype.
      events.labels(Object.hasOwn(EVENT_CODES, event.code) ? event.code : 'unknown').inc();
      const login = Object.hasOwn(LOGINS, event.code) ? LOGINS[event.code] : undefined;
      if (login) logins.labels(login.outcome, login.method).inc();
      const kind = protectionKind(event);
      if (kind) protections.labels(kind).inc();
    },
    onRefusedFromMemory(reason) {
      protections.labels(reason === 'ip_throttled' ? 'ip_throttled' : reason === 'account_locked' ? 'account_locked' : 'brute_force_block').inc();
    },
    observeVerify(seconds) {
      verifies.inc();
      verifyDuration.observe(seconds);
    },
    httpObserver({ method, route, statusCode, seconds }) {
      const upper = method.toUpperCase();
      const statusClass = statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : 'other';
      const key = `${HTTP_METHODS.has(upper) ? upper : 'OTHER'}\n${route}\n${statusClass}`;
      // The labelled child is kept per series (bounded: methods x route patterns x status classes), not looked up per response.
      let series = httpSeries.get(key);
      if (!series) {
        series = httpDuration.labels(HTTP_METHODS.has(upper) ? upper : 'OTHER', route, statusClass);
        httpSeries.set(key, series);
      }
      series.observe(seconds);
    },
    metrics: () => registry.metrics(),
  };
}
