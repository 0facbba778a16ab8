// /metrics: counters move with security events and argon2 verifications, gauges read the store on scrape, the HTTP
// histogram uses route patterns (bounded cardinality), each app has its own registry, and the bearer token is enforced.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { createMetrics, type Metrics, type MetricsOptions } from '../../src/metrics/metrics.js';
import { installHttpMetrics, metricsRoutes } from '../../src/http/routes/metrics.js';
import { createPasswordHasher } from '../../src/crypto/password-hasher.js';
import type { EventCode } from '../../src/events/event-codes.js';

const EMPTY_OUTBOX: MetricsOptions['outboxDepth'] = async () => ({ pending: 0, failed: 0 });

function fresh(options: Partial<MetricsOptions> = {}): Metrics {
  return createMetrics({ outboxDepth: EMPTY_OUTBOX, defaultMetrics: false, ...options });
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;

/** Parses Prometheus text format 0.0.4 strictly enough to catch malformed output. */
function parse(text: string): { samples: Sample[]; help: Set<string>; types: Map<string, string> } {
  const samples: Sample[] = [];
  const help = new Set<string>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (comment) {
      if (comment[1] === 'HELP') help.add(comment[2]!);
      else types.set(comment[2]!, comment[3]!);
      continue;
    }
    const match = SAMPLE_LINE.exec(line);
    assert.ok(match, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    const raw = match[3]!;
    // Prometheus parses NaN and Inf case-insensitively (prom-client writes "Nan").
    const special = raw.toLowerCase();
    const value = special === 'nan' ? Number.NaN : special === '+inf' ? Infinity : special === '-inf' ? -Infinity : Number(raw);
    assert.ok(!Number.isNaN(value) || special === 'nan', `bad value in: ${line}`);
    samples.push({ name: match[1]!, labels, value });
  }
  return { samples, help, types };
}

/** The value of one series; undefined when absent. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

async function scrape(metrics: Metrics): Promise<Sample[]> {
  return parse(await metrics.metrics()).samples;
}

function event(code: EventCode, reason: string | null = null) {
  return { code, reason };
}

describe('createMetrics', () => {
  it('starts every login, protection and event-code series at 0', async () => {
    const samples = await scrape(fresh());
    for (const outcome of ['success', 'failure']) {
      for (const method of ['password', 'passkey', 'login_link', 'sso']) assert.equal(valueOf(samples, 'portcullis_logins_total', { outcome, method }), 0);
    }
    assert.equal(valueOf(samples, 'portcullis_protection_decisions_total', { kind: 'risk_blocked' }), 0);
    assert.equal(valueOf(samples, 'portcullis_security_events_total', { code: 'logout' }), 0);
  });

  it('counts logins by outcome and method', async () => {
    const metrics = fresh();
    metrics.onEvent(event('login_success', 'password'));
    metrics.onEvent(event('login_success', 'password'));
    metrics.onEvent(event('login_passkey_success'));
    metrics.onEvent(event('login_link_used', 'login_link'));
    metrics.onEvent(event('session_sso'));
    metrics.onEvent(event('login_failed_password', 'password'));
    metrics.onEvent(event('login_failed_unknown_user', 'unknown_user'));
    metrics.onEvent(event('login_failed_disabled', 'disabled'));
    metrics.onEvent(event('login_failed_unverified', 'email_unverified'));
    metrics.onEvent(event('login_passkey_failed'));
    const samples = await scrape(metrics);
    const logins = (outcome: string, method: string) => valueOf(samples, 'portcullis_logins_total', { outcome, method });
    assert.equal(logins('success', 'password'), 2);
    assert.equal(logins('success', 'passkey'), 1);
    assert.equal(logins('success', 'login_link'), 1);
    assert.equal(logins('success', 'sso'), 1);
    assert.equal(logins('failure', 'password'), 4);
    assert.equal(logins('failure', 'passkey'), 1);
    assert.equal(logins('failure', 'login_link'), 0);
    assert.equal(logins('failure', 'sso'), 0);
  });

  it('counts protection decisions by kind, splitting login_blocked by its reason', async () => {
    const metrics = fresh();
    metrics.onEvent(event('login_block_started', 'account_ip_blocked'));
    metrics.onEvent(event('login_blocked', 'account_ip_blocked'));
    metrics.onEvent(event('login_blocked', 'account_locked'));
    metrics.onEvent(event('ip_throttled', 'ip_throttled'));
    metrics.onEvent(event('captcha_required'));
    metrics.onEvent(event('captcha_required'));
    metrics.onEvent(event('captcha_failed'));
    metrics.onEvent(event('captcha_passed'));
    metrics.onEvent(event('pwd_leak', 'password_breached'));
    metrics.onEvent(event('risk_blocked'));
    metrics.onEvent(event('risk_mfa'));
    metrics.onEvent(event('risk_logged'));
    metrics.onEvent(event('captcha_would_challenge'));
    metrics.onEvent(event('logout'));
    const samples = await scrape(metrics);
    const kind = (k: string) => valueOf(samples, 'portcullis_protection_decisions_total', { kind: k });
    assert.equal(kind('brute_force_block'), 2, 'the block starting and a login refused by it');
    assert.equal(kind('account_locked'), 1);
    assert.equal(kind('ip_throttled'), 1);
    assert.equal(kind('captcha_required'), 2);
    assert.equal(kind('captcha_failed'), 1);
    assert.equal(kind('captcha_passed'), 1);
    assert.equal(kind('breached_password'), 1);
    assert.equal(kind('risk_blocked'), 1);
    assert.equal(kind('risk_mfa'), 1);
    assert.equal(kind('risk_logged'), 1);
    const kinds = samples.filter((s) => s.name === 'portcullis_protection_decisions_total');
    assert.equal(kinds.length, 10, 'monitoring-only and unrelated events add no kind');
    assert.equal(kinds.reduce((sum, s) => sum + s.value, 0), 12);
  });

  it('counts every event by code, and folds unknown codes into one series', async () => {
    const metrics = fresh();
    metrics.onEvent(event('logout'));
    metrics.onEvent(event('logout'));
    metrics.onEvent(event('login_success'));
    metrics.onEvent(event('captcha_would_challenge'));
    metrics.onEvent({ code: 'made_up_code' as EventCode, reason: null });
    metrics.onEvent({ code: '__proto__' as EventCode, reason: null });
    const samples = await scrape(metrics);
    assert.equal(valueOf(samples, 'portcullis_security_events_total', { code: 'logout' }), 2);
    assert.equal(valueOf(samples, 'portcullis_security_events_total', { code: 'login_success' }), 1);
    assert.equal(valueOf(samples, 'portcullis_security_events_total', { code: 'captcha_would_challenge' }), 1);
    assert.equal(valueOf(samples, 'portcullis_security_events_total', { code: 'unknown' }), 2);
    assert.equal(valueOf(samples, 'portcullis_security_events_total', { code: 'made_up_code' }), undefined);
  });

  it('records argon2 verifications in a counter and a histogram', async () => {
    const metrics = fresh();
    metrics.observeVerify(0.012);
    metrics.observeVerify(0.3);
    const samples = await scrape(metrics);
    assert.equal(valueOf(samples, 'portcullis_argon2_verify_total'), 2);
    assert.equal(valueOf(samples, 'portcullis_argon2_verify_duration_seconds_count'), 2);
    assert.ok(Math.abs((valueOf(samples, 'portcullis_argon2_verify_duration_seconds_sum') ?? 0) - 0.312) < 1e-9);
    assert.equal(valueOf(samples, 'portcullis_argon2_verify_duration_seconds_bucket', { le: '0.015' }), 1);
    assert.equal(valueOf(samples, 'portcullis_argon2_verify_duration_seconds_bucket', { le: '0.5' }), 2);
    assert.equal(valueOf(samples, 'portcullis_argon2_verify_duration_seconds_bucket', { le: '+Inf' }), 2);
  });

  it('the hasher reports verify and dummyVerify durations to the observer, without changing results', async () => {
    const metrics = fresh();
    const seen: number[] = [];
    const hasher = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, {
      onVerify(seconds) {
        seen.push(seconds);
        metrics.observeVerify(seconds);
      },
    });
    const stored = await hasher.hash('correct horse battery staple');
    assert.deepEqual(seen, [], 'hashing is not a verification');
    assert.equal(await hasher.verify(stored, 'correct horse battery staple'), true);
    assert.equal(await hasher.verify(stored, 'wrong'), false);
    assert.equal(await hasher.verify('not-a-hash', 'x'), false, 'a malformed hash still returns false');
    await hasher.dummyVerify('anything');
    assert.equal(seen.length, 4);
    assert.ok(seen.every((s) => s >= 0 && s < 10));
    assert.equal(valueOf(await scrape(metrics), 'portcullis_argon2_verify_total'), 4);

    const throwing = createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, {
      onVerify() {
        throw new Error('observer bug');
      },
    });
    assert.equal(await throwing.verify(stored, 'correct horse battery staple'), true, 'a broken observer does not break logins');
    await throwing.dummyVerify('x');
  });

  it('observes HTTP responses by method, route and status class', async () => {
    const metrics = fresh();
    metrics.httpObserver({ method: 'GET', route: '/users/:id', statusCode: 200, seconds: 0.02 });
    metrics.httpObserver({ method: 'get', route: '/users/:id', statusCode: 204, seconds: 0.03 });
    metrics.httpObserver({ method: 'POST', route: 'oidc', statusCode: 302, seconds: 0.1 });
    metrics.httpObserver({ method: 'PROPFIND', route: 'unmatched', statusCode: 404, seconds: 0.001 });
    const samples = await scrape(metrics);
    const count = (labels: Record<string, string>) => valueOf(samples, 'portcullis_http_request_duration_seconds_count', labels);
    assert.equal(count({ method: 'GET', route: '/users/:id', status_class: '2xx' }), 2);
    assert.equal(count({ method: 'POST', route: 'oidc', status_class: '3xx' }), 1);
    assert.equal(count({ method: 'OTHER', route: 'unmatched', status_class: '4xx' }), 1, 'unusual methods share one label');
    assert.equal(valueOf(samples, 'portcullis_http_request_duration_seconds_bucket', { method: 'GET', route: '/users/:id', status_class: '2xx', le: '0.025' }), 1);
  });

  it('reads the outbox and webhook gauges from the callbacks on each scrape, one outbox read per scrape', async () => {
    let depth = { pending: 3, failed: 1 };
    let webhooks = 5;
    let outboxReads = 0;
    const metrics = fresh({
      outboxDepth: async () => {
        outboxReads += 1;
        return depth;
      },
      webhookDepth: async () => webhooks,
    });
    assert.equal(outboxReads, 0, 'nothing is read before a scrape');
    let samples = await scrape(metrics);
    assert.equal(valueOf(samples, 'portcullis_mail_outbox_pending'), 3);
    assert.equal(valueOf(samples, 'portcullis_mail_outbox_failed'), 1);
    assert.equal(valueOf(samples, 'portcullis_webhook_deliveries_pending'), 5);
    assert.equal(outboxReads, 1, 'both outbox gauges share one query');

    depth = { pending: 0, failed: 2 };
    webhooks = 0;
    samples = await scrape(metrics);
    assert.equal(valueOf(samples, 'portcullis_mail_outbox_pending'), 0);
    assert.equal(valueOf(samples, 'portcullis_mail_outbox_failed'), 2);
    assert.equal(valueOf(samples, 'portcullis_webhook_deliveries_pending'), 0);
    assert.equal(outboxReads, 2);
  });

  it('a failing depth read shows NaN and is reported, instead of failing the whole scrape', async () => {
    const errors: string[] = [];
    const metrics = fresh({
      onCollectError: (source, error) => errors.push(`${source}: ${(error as Error).message}`),
      outboxDepth: async () => {
        throw new Error('database down');
      },
      webhookDepth: async () => {
        throw new Error('database down');
      },
    });
    metrics.onEvent(event('login_success'));
    const samples = await scrape(metrics);
    assert.ok(Number.isNaN(valueOf(samples, 'portcullis_mail_outbox_pending')));
    assert.ok(Number.isNaN(valueOf(samples, 'portcullis_mail_outbox_failed')));
    assert.ok(Number.isNaN(valueOf(samples, 'portcullis_webhook_deliveries_pending')));
    assert.deepEqual(errors.sort(), ['outbox: database down', 'webhooks: database down'], 'one outbox read for both gauges');
    assert.equal(valueOf(samples, 'portcullis_logins_total', { outcome: 'success', method: 'password' }), 1, 'the rest is still reported');
  });

  it('leaves out the webhook gauge when no webhook depth is given', async () => {
    const text = await fresh().metrics();
    assert.ok(!text.includes('portcullis_webhook_deliveries_pending'));
  });

  it('two instances have their own registries and share no state', async () => {
    const a = fresh();
    const b = fresh();
    assert.notEqual(a.registry, b.registry);
    a.onEvent(event('login_success'));
    a.onEvent(event('login_success'));
    b.onEvent(event('login_passkey_success'));
    a.observeVerify(0.01);
    const sa = await scrape(a);
    const sb = await scrape(b);
    assert.equal(valueOf(sa, 'portcullis_logins_total', { outcome: 'success', method: 'password' }), 2);
    assert.equal(valueOf(sb, 'portcullis_logins_total', { outcome: 'success', method: 'password' }), 0);
    assert.equal(valueOf(sa, 'portcullis_logins_total', { outcome: 'success', method: 'passkey' }), 0);
    assert.equal(valueOf(sb, 'portcullis_logins_total', { outcome: 'success', method: 'passkey' }), 1);
    assert.equal(valueOf(sa, 'portcullis_argon2_verify_total'), 1);
    assert.equal(valueOf(sb, 'portcullis_argon2_verify_total'), 0);
    const { register: globalRegistry } = await import('prom-client');
    assert.equal(await globalRegistry.getSingleMetric('portcullis_logins_total'), undefined, 'nothing lands in the global registry');
  });

  it('adds the process metrics with the portcullis_ prefix when asked (the default), per instance', async () => {
    const a = createMetrics({ outboxDepth: EMPTY_OUTBOX });
    const b = createMetrics({ outboxDepth: EMPTY_OUTBOX });
    for (const metrics of [a, b]) {
      const { samples, types } = parse(await metrics.metrics());
      assert.equal(types.get('portcullis_process_cpu_user_seconds_total'), 'counter');
      assert.ok((valueOf(samples, 'portcullis_process_resident_memory_bytes') ?? valueOf(samples, 'portcullis_nodejs_heap_size_total_bytes') ?? 0) > 0);
      assert.ok(!samples.some((s) => s.name.startsWith('process_') || s.name.startsWith('nodejs_')), 'no unprefixed series');
    }
  });
});

describe('GET /metrics and the HTTP histogram', () => {
  const TOKEN = 'scrape-token-0123456789abcdef';
  let app: FastifyInstance;
  let open: FastifyInstance;
  let metrics: Metrics;

  before(async () => {
    metrics = fresh({ outboxDepth: async () => ({ pending: 2, failed: 0 }) });
    // Shaped like src/http/server.ts: catch-all /oidc routes hand injected requests to a non-Fastify handler, and each
    // surface is its own plugin.
    app = Fastify();
    const mounted = async (_request: unknown, reply: FastifyReply) => {
      reply.hijack();
      reply.raw.statusCode = 302;
      reply.raw.setHeader('location', '/elsewhere');
      reply.raw.end();
    };
    app.all('/oidc', mounted);
    app.all('/oidc/*', mounted);
    await app.register(metricsRoutes({ metrics, token: TOKEN }));
    await app.register(async (child: FastifyInstance) => {
      child.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
      child.post('/fail', async (_request, reply) => reply.code(500).send({ error: 'boom' }));
    });
    // Installed after the plugins, as the lead will do on the server buildServer returns.
    installHttpMetrics(app, metrics);
    await app.ready();

    open = Fastify();
    await open.register(metricsRoutes({ metrics: fresh(), token: '' }));
    await open.ready();
  });
  after(async () => {
    await app.close();
    await open.close();
  });

  it('refuses a scrape without the token, with a Bearer challenge', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 401);
    assert.equal(response.headers['www-authenticate'], 'Bearer');
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.ok(!response.body.includes('portcullis_'), 'no metrics leak');
  });

  it('refuses a wrong token, a token prefix, and another scheme', async () => {
    for (const authorization of [`Bearer wrong-${TOKEN}`, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, TOKEN, 'Bearer ', `Bearer ${TOKEN} extra`]) {
      const response = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization } });
      assert.equal(response.statusCode, 401, authorization);
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    }
  });

  it('serves Prometheus text with the right token', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.equal(response.headers['cache-control'], 'no-store');
    const { samples, help, types } = parse(response.body);
    assert.match(response.body, /^# HELP portcullis_/m);
    assert.match(response.body, /^# TYPE portcullis_logins_total counter$/m);
    for (const name of ['portcullis_logins_total', 'portcullis_protection_decisions_total', 'portcullis_security_events_total', 'portcullis_argon2_verify_total', 'portcullis_mail_outbox_pending', 'portcullis_mail_outbox_failed']) {
      assert.ok(help.has(name), `HELP for ${name}`);
      assert.ok(types.has(name), `TYPE for ${name}`);
    }
    assert.equal(types.get('portcullis_argon2_verify_duration_seconds'), 'histogram');
    assert.equal(types.get('portcullis_http_request_duration_seconds'), 'histogram');
    assert.equal(types.get('portcullis_mail_outbox_pending'), 'gauge');
    assert.equal(valueOf(samples, 'portcullis_mail_outbox_pending'), 2);
    // The scheme is case-insensitive (RFC 7235).
    assert.equal((await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `bearer ${TOKEN}` } })).statusCode, 200);
  });

  it('serves without a token when none is configured', async () => {
    const response = await open.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /^# TYPE portcullis_logins_total counter$/m);
  });

  it('labels latency by route pattern, mount name or "unmatched", never the raw URL', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/users/123' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/users/456?x=1' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'POST', url: '/fail' })).statusCode, 500);
    assert.equal((await app.inject({ method: 'GET', url: '/no/such/page-789' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/oidc/auth?client_id=abc' })).statusCode, 302);
    assert.equal((await app.inject({ method: 'GET', url: '/oidcfake' })).statusCode, 404);

    const samples = await scrape(metrics);
    const count = (labels: Record<string, string>) => valueOf(samples, 'portcullis_http_request_duration_seconds_count', labels);
    assert.equal(count({ method: 'GET', route: '/users/:id', status_class: '2xx' }), 2);
    assert.equal(count({ method: 'POST', route: '/fail', status_class: '5xx' }), 1);
    assert.equal(count({ method: 'GET', route: 'oidc', status_class: '3xx' }), 1, 'the OIDC mount is one route');
    assert.equal(count({ method: 'GET', route: 'unmatched', status_class: '4xx' }), 2, '404s share one label');
    assert.ok((count({ method: 'GET', route: '/metrics', status_class: '4xx' }) ?? 0) >= 1, 'scrapes are observed too');
    const routes = new Set(samples.filter((s) => s.name === 'portcullis_http_request_duration_seconds_count').map((s) => s.labels.route));
    for (const route of routes) assert.ok(route === 'oidc' || route === 'unmatched' || route?.startsWith('/'), `route label ${route}`);
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    for (const raw of ['123', '456', 'page-789', 'client_id', 'oidcfake']) assert.ok(!labelValues.some((v) => v.includes(raw)), `the raw URL part ${raw} is not a label`);
  });
});
