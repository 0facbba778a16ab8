// Webhooks end to end on every backend: registration, signed delivery to a loopback receiver, retries with backoff
// through outages, failure after maxAttempts, exactly-once under parallel workers, secrets sealed at rest, and the CLI.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { createSqlStore } from '../../src/store/sql/sql-store.js';
import type { Store } from '../../src/store/store.js';
import { unseal } from '../../src/crypto/seal.js';
import { signWebhook, verifyWebhookSignature } from '../../src/webhooks/signing.js';
import {
  addWebhook,
  listDeliveries,
  listWebhooks,
  removeWebhook,
  sendTestEvent,
  setWebhookDisabled,
  webhookSealKey,
  type WebhookAdminDeps,
} from '../../src/webhooks/webhook-admin.js';
import { createWebhookDispatcher, type WebhookPayload } from '../../src/webhooks/webhook-dispatcher.js';
import { observeEvents } from '../../src/events/observe-events.js';
import { createWebhookWorker, type WebhookWorker, type WebhookWorkerDeps } from '../../src/webhooks/webhook-worker.js';
import type { EventStore } from '../../src/store/store.js';
import { runCli } from '../../src/cli/run-cli.js';
import { loadConfig } from '../../src/config/index.js';
import { openStore } from '../../src/app.js';
import { backends, createPostgresDatabase, postgresUrl, TEST_SEAL_KEY } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const BASE_DELAY = 1000;
const HOOK_KEY = Buffer.alloc(32, 11);

function testClock(): { now(): number; advance(ms: number): void } {
  let t = T0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function collectingLogger(lines: string[]): WebhookWorkerDeps['logger'] {
  const log = (obj: object, msg: string) => void lines.push(JSON.stringify({ ...obj, msg }));
  return { info: log, warn: log, error: log };
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback receiver that records every request; `respond` picks the status (or 'hang' to never answer). */
interface Receiver {
  readonly url: string;
  readonly port: number;
  requests: Received[];
  respond: number | 'hang';
  delayMs: number;
  open(): Promise<void>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const openReceivers = new Set<Receiver>();

/** Creates a receiver on a fixed port, closed until open() (so "down" really means nothing listens). */
async function receiver(): Promise<Receiver> {
  const port = await freePort();
  let server: Server | null = null;
  const self: Receiver = {
    url: `http://127.0.0.1:${port}/hooks/portcullis`,
    port,
    requests: [],
    respond: 200,
    delayMs: 0,
    async open() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          self.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          if (self.respond === 'hang') return;
          const status = self.respond;
          setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope'), self.delayMs);
        });
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
      openReceivers.add(self);
    },
    async close() {
      if (!server) return;
      const s = server;
      server = null;
      openReceivers.delete(self);
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
  return self;
}

function makeWorker(store: Store, clock: { now(): number }, logs: string[], overrides: Partial<WebhookWorkerDeps> = {}): WebhookWorker {
  return createWebhookWorker({
    store,
    clock,
    logger: collectingLogger(logs),
    sealKey: HOOK_KEY,
    maxAttempts: 5,
    retryBaseDelayMs: BASE_DELAY,
    pollIntervalMs: 20,
    timeoutMs: 2000,
    random: () => 0.5,
    ...overrides,
  });
}

/** The event store as the app wires it: every appended event also goes to the dispatcher. */
function dispatchingEvents(store: Store, clock: { now(): number }, logs: string[]): EventStore {
  const dispatcher = createWebhookDispatcher({ store, clock, logger: collectingLogger(logs) });
  return observeEvents(store.events, [(event) => dispatcher.onEvent(event)], (error) => {
    throw error;
  });
}

async function rawWebhookRows(backend: { name: string }, db: { databaseUrl: string; dataDir: string }): Promise<Record<string, unknown>[]> {
  if (backend.name === 'postgres') {
    const client = new pg.Client({ connectionString: db.databaseUrl });
    await client.connect();
    try {
      return (await client.query('select * from webhooks')).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  }
  const sqlite = new SQLite(join(db.dataDir, 'portcullis.sqlite'), { readonly: true });
  try {
    return sqlite.prepare('select * from webhooks').all() as Record<string, unknown>[];
  } finally {
    sqlite.close();
  }
}

describe('webhook signatures', () => {
  const secret = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA';
  const body = '{"id":"whd_1","event":{"code":"login_success"}}';

  it('signs as t=<unix seconds>,v1=<hex hmac-sha256 of "<t>.<body>">', () => {
    const header = signWebhook(secret, T0 + 999, body);
    assert.match(header, /^t=1700000000,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(secret, header, body, T0), true);
    assert.equal(verifyWebhookSignature(secret, header, Buffer.from(body), T0), true, 'raw bytes verify too');
  });

  it('fails for a tampered body, a wrong secret, a stale or future timestamp, and malformed headers', () => {
    const header = signWebhook(secret, T0, body);
    assert.equal(verifyWebhookSignature(secret, header, body.replace('login_success', 'login_failed_password'), T0), false, 'tampered body');
    assert.equal(verifyWebhookSignature(`${secret}x`, header, body, T0), false, 'wrong secret');
    assert.equal(verifyWebhookSignature(secret, header, body, T0 + 300_000), true, 'at the edge of the tolerance');
    assert.equal(verifyWebhookSignature(secret, header, body, T0 + 301_000), false, 'older than the tolerance');
    assert.equal(verifyWebhookSignature(secret, header, body, T0 + 301_000, 600), true, 'a wider tolerance');
    assert.equal(verifyWebhookSignature(secret, header, body, T0 - 301_000), false, 'from the future');
    const replayed = header.replace(/^t=\d+/, `t=${T0 / 1000 + 3600}`);
    assert.equal(verifyWebhookSignature(secret, replayed, body, T0 + HOUR), false, 'a fresh timestamp on an old signature');
    for (const bad of ['', 'v1=abc', `t=${T0 / 1000}`, 't=x,v1=' + 'a'.repeat(64), null, undefined]) {
      assert.equal(verifyWebhookSignature(secret, bad, body, T0), false, String(bad));
    }
    const rotated = `${header},v1=${'0'.repeat(64)}`;
    assert.equal(verifyWebhookSignature(secret, rotated, body, T0), true, 'any v1 may match');
  });
});

describe('webhook registration rules', () => {
  const memory = {
    hooks: [] as unknown[],
    webhooks: { create: async (h: unknown) => void memory.hooks.push(h) },
  };
  const deps = { store: memory as unknown as WebhookAdminDeps['store'], clock: testClock(), sealKey: HOOK_KEY };

  it('needs an absolute http(s) URL without credentials; https in production except to loopback', async () => {
    await assert.rejects(addWebhook(deps, { url: 'not a url' }), /not an absolute URL/);
    await assert.rejects(addWebhook(deps, { url: 'ftp://example.com/x' }), /https:\/\//);
    await assert.rejects(addWebhook(deps, { url: 'https://user:pw@example.com/x' }), /user name or password/);
    await assert.rejects(addWebhook(deps, { url: 'http://example.com/x', requireHttps: true }), /must use https/);
    assert.ok(await addWebhook(deps, { url: 'http://example.com/x' }), 'http is fine outside production');
    for (const url of ['http://127.0.0.1:9000/x', 'http://localhost/x', 'http://[::1]:8080/x', 'https://example.com/x']) {
      assert.ok(await addWebhook(deps, { url, requireHttps: true }), url);
    }
  });

  it('accepts known event codes (or none, for all) and returns a fresh 32-byte secret', async () => {
    await assert.rejects(addWebhook(deps, { url: 'https://example.com/x', codes: ['login_success', 'no_such_code'] }), /Unknown event code: no_such_code/);
    const a = await addWebhook(deps, { url: 'https://example.com/x', codes: ['login_success', 'login_success', 'pwd_leak'], description: '  SIEM  ' });
    assert.deepEqual(a.webhook.codes, ['login_success', 'pwd_leak']);
    assert.equal(a.webhook.description, 'SIEM');
    assert.equal(Buffer.from(a.secret, 'base64url').length, 32);
    assert.ok(!('sealedSecret' in a.webhook), 'the sealed form is not handed out');
    const b = await addWebhook(deps, { url: 'https://example.com/x' });
    assert.deepEqual(b.webhook.codes, []);
    assert.notEqual(a.secret, b.secret);
    assert.match(a.webhook.id, /^wh_/);
  });
});

for (const backend of backends()) {
  describe(`webhooks on ${backend.name}`, () => {
    let db: Awaited<ReturnType<typeof backend.create>>;
    let hook: Receiver;
    before(async () => {
      db = await backend.create();
    });
    after(async () => {
      // Even after a failed test: an open server would keep the test process alive.
      await Promise.all([...openReceivers].map((r) => r.close()));
      await db.dispose();
    });

    it('delivers a signed POST for a matching event code and nothing for other codes', async () => {
      const clock = testClock();
      const logs: string[] = [];
      hook = await receiver();
      await hook.open();
      const deps = { store: db.store, clock, sealKey: HOOK_KEY };
      const only = await addWebhook(deps, { url: hook.url, codes: ['login_failed_password'], description: 'failures only' });
      const off = await addWebhook(deps, { url: hook.url, codes: [] });
      await setWebhookDisabled(deps, off.webhook.id, true);
      const events = dispatchingEvents(db.store, clock, logs);
      const failed = await events.append({ code: 'login_failed_password', outcome: 'failure', identifier: 'ada@example.com', ip: '203.0.113.9', reason: 'wrong_password', details: { attempt: 3 } }, clock.now());
      await events.append({ code: 'login_success', outcome: 'success', identifier: 'bob@example.com' }, clock.now());

      const worker = makeWorker(db.store, clock, logs);
      assert.equal(await worker.runOnce(), 1);
      assert.equal(hook.requests.length, 1, 'one delivery: the disabled and non-matching webhooks get nothing');
      const [request] = hook.requests;
      assert.ok(request);
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers['portcullis-event'], 'login_failed_password');
      const payload = JSON.parse(request.body) as WebhookPayload;
      assert.equal(request.headers['portcullis-delivery'], payload.id);
      assert.equal(payload.webhook_id, only.webhook.id);
      assert.deepEqual(payload.event, {
        id: failed.id,
        code: 'login_failed_password',
        at: new Date(T0).toISOString(),
        outcome: 'failure',
        reason: 'wrong_password',
        user_id: null,
        identifier: 'ada@example.com',
        ip: '203.0.113.9',
        client_id: null,
        details: { attempt: 3 },
      });
      const signature = request.headers['portcullis-signature'] as string;
      assert.equal(verifyWebhookSignature(only.secret, signature, request.body, clock.now()), true);
      assert.equal(verifyWebhookSignature(only.secret, signature, request.body.replace('ada@', 'eve@'), clock.now()), false, 'tampered body');
      assert.equal(verifyWebhookSignature(off.secret, signature, request.body, clock.now()), false, 'another webhook\'s secret');
      assert.equal(verifyWebhookSignature(only.secret, signature, request.body, clock.now() + 301_000), false, 'replayed after the tolerance');

      const log = await listDeliveries({ store: db.store }, { webhookId: only.webhook.id });
      assert.equal(log.length, 1);
      assert.equal(log[0]?.status, 'delivered');
      assert.equal(log[0]?.lastStatus, 200);
      assert.equal(log[0]?.attempts, 1);
      assert.equal(log[0]?.deliveredAt, T0);
      assert.equal(log[0]?.payload, request.body, 'the log holds the exact body that was signed');
      assert.equal(await worker.runOnce(), 0, 'nothing left');
      assert.equal(await db.store.webhooks.countPending(), 0);
      assert.ok(!logs.join('\n').includes(only.secret), 'the secret is never logged');

      // The test event goes to one webhook whatever codes it subscribes to.
      const testId = await sendTestEvent(deps, only.webhook.id);
      assert.equal(await worker.runOnce(), 1);
      const last = hook.requests.at(-1)!;
      assert.equal(last.headers['portcullis-event'], 'webhook_test');
      assert.equal(last.headers['portcullis-delivery'], testId);
      assert.equal(verifyWebhookSignature(only.secret, last.headers['portcullis-signature'] as string, last.body, clock.now()), true);
      await assert.rejects(sendTestEvent(deps, off.webhook.id), /disabled/);
      await assert.rejects(sendTestEvent(deps, 'wh_nope'), /No webhook/);

      await removeWebhook(deps, only.webhook.id);
      await removeWebhook(deps, off.webhook.id);
      await hook.close();
    });

    it('keeps the secret sealed at rest', async () => {
      const deps = { store: db.store, clock: testClock(), sealKey: HOOK_KEY };
      const { webhook, secret } = await addWebhook(deps, { url: 'https://hooks.example.com/in' });
      const rows = await rawWebhookRows(backend, db);
      const row = rows.find((r) => r.id === webhook.id);
      assert.ok(row);
      assert.ok(!JSON.stringify(rows).includes(secret), 'no column holds the secret in plain text');
      assert.ok(!JSON.stringify(rows).includes(Buffer.from(secret, 'base64url').toString('hex')));
      assert.equal(unseal(HOOK_KEY, row.sealed_secret as string), secret, 'the worker can unseal it with the same key');
      assert.throws(() => unseal(Buffer.alloc(32, 1), row.sealed_secret as string), 'another key cannot');
      const listed = await listWebhooks(deps);
      assert.ok(!JSON.stringify(listed).includes(row.sealed_secret as string), 'listing hands out neither form');
      await removeWebhook(deps, webhook.id);
      await assert.rejects(removeWebhook(deps, webhook.id), /No webhook/);
    });

    it('retries while the receiver is down or failing, and delivers once it is back', async () => {
      const clock = testClock();
      const logs: string[] = [];
      hook = await receiver();
      const deps = { store: db.store, clock, sealKey: HOOK_KEY };
      const { webhook, secret } = await addWebhook(deps, { url: hook.url, codes: ['pwd_leak'] });
      const events = dispatchingEvents(db.store, clock, logs);
      await events.append({ code: 'pwd_leak', outcome: 'failure', identifier: 'ada@example.com' }, clock.now());
      const worker = makeWorker(db.store, clock, logs);

      // Nothing listens on the port.
      assert.equal(await worker.runOnce(), 0);
      let [d] = await listDeliveries(deps, { webhookId: webhook.id });
      assert.equal(d?.status, 'pending');
      assert.equal(d?.attempts, 1);
      assert.equal(d?.lastStatus, null);
      assert.match(d?.lastError ?? '', /ECONNREFUSED/);
      assert.equal(d?.nextAttemptAt, T0 + BASE_DELAY);
      assert.equal(await worker.runOnce(), 0, 'not due before the backoff');
      assert.equal(d?.attempts, (await listDeliveries(deps, { webhookId: webhook.id }))[0]?.attempts);

      // It comes up but answers 500.
      await hook.open();
      hook.respond = 500;
      clock.advance(BASE_DELAY);
      assert.equal(await worker.runOnce(), 0);
      [d] = await listDeliveries(deps, { webhookId: webhook.id });
      assert.equal(d?.attempts, 2);
      assert.equal(d?.lastStatus, 500);
      assert.match(d?.lastError ?? '', /^HTTP 500/);
      assert.equal(d?.nextAttemptAt, clock.now() + 2 * BASE_DELAY, 'the delay doubles');

      // A redirect is not followed and counts as a failure.
      hook.respond = 302;
      clock.advance(2 * BASE_DELAY);
      assert.equal(await worker.runOnce(), 0);
      [d] = await listDeliveries(deps, { webhookId: webhook.id });
      assert.match(d?.lastError ?? '', /redirects are not followed/);

      // Healthy again.
      hook.respond = 200;
      clock.advance(4 * BASE_DELAY);
      assert.equal(await worker.runOnce(), 1);
      [d] = await listDeliveries(deps, { webhookId: webhook.id });
      assert.equal(d?.status, 'delivered');
      assert.equal(d?.attempts, 4);
      assert.equal(d?.lastError, null);
      const ids = new Set(hook.requests.map((r) => r.headers['portcullis-delivery']));
      assert.deepEqual([...ids], [d?.id], 'every attempt carries the same delivery id');
      const final = hook.requests.at(-1)!;
      assert.equal(verifyWebhookSignature(secret, final.headers['portcullis-signature'] as string, final.body, clock.now()), true, 'each retry is signed afresh');
      const stamp = (r: Received) => /^t=(\d+),/.exec(r.headers['portcullis-signature'] as string)?.[1];
      assert.notEqual(stamp(hook.requests[0]!), stamp(final), 'each attempt carries its own timestamp');
      assert.ok(!logs.join('\n').includes(secret));
      await removeWebhook(deps, webhook.id);
      await hook.close();
    });

    it('marks a delivery failed after maxAttempts, and times out a receiver that never answers', async () => {
      const clock = testClock();
      const logs: string[] = [];
      hook = await receiver();
      await hook.open();
      hook.respond = 500;
      const deps = { store: db.store, clock, sealKey: HOOK_KEY };
      const { webhook } = await addWebhook(deps, { url: hook.url });
      const deliveryId = await sendTestEvent(deps, webhook.id);
      const worker = makeWorker(db.store, clock, logs, { maxAttempts: 3 });
      for (let round = 0; round < 6; round++) {
        await worker.runOnce();
        clock.advance(HOUR);
      }
      assert.equal(hook.requests.length, 3, 'exactly maxAttempts attempts');
      const [d] = await listDeliveries(deps, { webhookId: webhook.id, status: 'failed' });
      assert.equal(d?.id, deliveryId);
      assert.equal(d?.attempts, 3);
      assert.equal(d?.nextAttemptAt, null);
      assert.equal(d?.lastStatus, 500);
      assert.deepEqual(await listDeliveries(deps, { webhookId: webhook.id, status: 'pending' }), []);
      assert.ok(logs.some((l) => l.includes('failed for good')));

      hook.respond = 'hang';
      await sendTestEvent(deps, webhook.id);
      const slow = makeWorker(db.store, clock, logs, { timeoutMs: 200 });
      assert.equal(await slow.runOnce(), 0);
      const [pending] = await listDeliveries(deps, { webhookId: webhook.id, status: 'pending' });
      assert.equal(pending?.lastError, 'timed out after 200 ms');

      // Disabling stops it: what is still pending is marked failed rather than sent.
      hook.respond = 200;
      await setWebhookDisabled(deps, webhook.id, true);
      clock.advance(HOUR);
      const before = hook.requests.length;
      assert.equal(await worker.runOnce(), 0);
      assert.equal(hook.requests.length, before);
      const [stopped] = await listDeliveries(deps, { webhookId: webhook.id, limit: 1 });
      assert.equal(stopped?.status, 'failed');
      assert.equal(stopped?.lastError, 'the webhook is disabled');
      await removeWebhook(deps, webhook.id);
      assert.deepEqual(await listDeliveries(deps, { webhookId: webhook.id }), [], 'the log goes with the webhook');
      await hook.close();
    });

    it('two workers claiming at once deliver each of 20 deliveries exactly once', async () => {
      const clock = testClock();
      const logs: string[] = [];
      hook = await receiver();
      await hook.open();
      hook.delayMs = 5;
      const deps = { store: db.store, clock, sealKey: HOOK_KEY };
      const { webhook } = await addWebhook(deps, { url: hook.url, codes: ['login_success'] });
      const events = dispatchingEvents(db.store, clock, logs);
      for (let i = 0; i < 20; i++) await events.append({ code: 'login_success', outcome: 'success', identifier: `user${i}@example.com` }, clock.now());
      assert.equal(await db.store.webhooks.countPending(), 20);

      // A second node: its own connection (pool) to the same database.
      const other = createSqlStore({ databaseUrl: db.databaseUrl, dataDir: db.dataDir, sealKey: TEST_SEAL_KEY });
      try {
        const a = makeWorker(db.store, clock, logs, { batchSize: 4 });
        const b = makeWorker(other, clock, logs, { batchSize: 4 });
        let sent = 0;
        for (let round = 0; round < 20 && (await db.store.webhooks.countPending()) > 0; round++) {
          const [x, y] = await Promise.all([a.runOnce(), b.runOnce()]);
          sent += x + y;
        }
        assert.equal(sent, 20);
      } finally {
        await other.close();
      }
      const counts = new Map<string, number>();
      for (const r of hook.requests) counts.set(r.headers['portcullis-delivery'] as string, (counts.get(r.headers['portcullis-delivery'] as string) ?? 0) + 1);
      assert.equal(counts.size, 20, 'every delivery arrived');
      assert.deepEqual([...new Set(counts.values())], [1], 'none arrived twice');
      const log = await listDeliveries(deps, { webhookId: webhook.id, limit: 100 });
      assert.equal(log.length, 20);
      assert.ok(log.every((d) => d.status === 'delivered' && d.attempts === 1));
      await removeWebhook(deps, webhook.id);
      await hook.close();
    });
  });
}

async function cli(env: Record<string, string>, args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await runCli(args, { stdout, stderr, stdin: Readable.from([]), env });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const cliTargets: { name: string; setup(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> }[] = [
  {
    name: 'sqlite',
    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'pc-cli-webhooks-'));
      return { env: { PORTCULLIS_DATA_DIR: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
];
const pgBase = postgresUrl();
if (pgBase) {
  cliTargets.push({
    name: 'postgres',
    async setup() {
      const database = await createPostgresDatabase(pgBase);
      const dir = mkdtempSync(join(tmpdir(), 'pc-cli-webhooks-'));
      return {
        env: { PORTCULLIS_DATA_DIR: dir, PORTCULLIS_DATABASE_URL: database.url },
        cleanup: async () => {
          await database.drop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  });
}

for (const target of cliTargets) {
  describe(`portcullis webhook on ${target.name}`, () => {
    let env: Record<string, string>;
    let cleanup: () => Promise<void>;
    before(async () => ({ env, cleanup } = await target.setup()));
    after(async () => cleanup());

    it('adds (printing the secret once), lists, tests, disables, shows deliveries and removes', async () => {
      const added = await cli(env, ['webhook', 'add', '--url', 'http://127.0.0.1:9/hook', '--events', 'login_success,pwd_leak', '--events', 'logout', '--description', 'SIEM']);
      assert.equal(added.code, 0, added.stderr);
      const id = /Added webhook (wh_\S+):/.exec(added.stdout)?.[1];
      const secret = /\n {2}(\S{43})\n/.exec(added.stdout)?.[1];
      assert.ok(id && secret, added.stdout);
      assert.match(added.stdout, /login_success, pwd_leak, logout/);
      assert.match(added.stdout, /HMAC-SHA256/);
      assert.match(added.stdout, new RegExp(`portcullis webhook test ${id}`));

      const listed = await cli(env, ['webhook', 'list', '--json']);
      assert.equal(listed.code, 0, listed.stderr);
      const hooks = JSON.parse(listed.stdout) as { id: string; url: string; events: string[]; disabled: boolean; description: string }[];
      assert.deepEqual(hooks.map((h) => [h.id, h.url, h.events, h.disabled, h.description]), [[id, 'http://127.0.0.1:9/hook', ['login_success', 'pwd_leak', 'logout'], false, 'SIEM']]);
      assert.ok(!listed.stdout.includes(secret), 'the secret is shown only once');
      const table = await cli(env, ['webhook', 'list']);
      assert.match(table.stdout, /id\s+url\s+events\s+disabled/);
      assert.ok(table.stdout.includes(id));

      // What the CLI sealed, the server (same config secret) can unseal.
      const config = loadConfig(env);
      const store = await openStore(config);
      try {
        const stored = await store.webhooks.findById(id);
        assert.equal(unseal(webhookSealKey(config.secret), stored!.sealedSecret), secret);
      } finally {
        await store.close();
      }

      const tested = await cli(env, ['webhook', 'test', id]);
      assert.equal(tested.code, 0, tested.stderr);
      const deliveryId = /test delivery (whd_\S+) /.exec(tested.stdout)?.[1];
      const deliveries = JSON.parse((await cli(env, ['webhook', 'deliveries', '--webhook', id, '--json'])).stdout) as { id: string; event: string; status: string }[];
      assert.deepEqual(deliveries.map((d) => [d.id, d.event, d.status]), [[deliveryId, 'webhook_test', 'pending']]);
      assert.deepEqual(JSON.parse((await cli(env, ['webhook', 'deliveries', '--status', 'failed', '--json'])).stdout), []);
      assert.match((await cli(env, ['webhook', 'deliveries'])).stdout, /webhook_test\s+pending/);

      assert.equal((await cli(env, ['webhook', 'disable', id])).code, 0);
      assert.equal((JSON.parse((await cli(env, ['webhook', 'list', '--json'])).stdout) as { disabled: boolean }[])[0]?.disabled, true);
      assert.match((await cli(env, ['webhook', 'test', id])).stderr, /disabled; enable it first/);
      assert.equal((await cli(env, ['webhook', 'enable', id])).code, 0);
      assert.equal((JSON.parse((await cli(env, ['webhook', 'list', '--json'])).stdout) as { disabled: boolean }[])[0]?.disabled, false);

      const removed = await cli(env, ['webhook', 'remove', id]);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /Removed webhook/);
      assert.deepEqual(JSON.parse((await cli(env, ['webhook', 'list', '--json'])).stdout), []);
      const again = await cli(env, ['webhook', 'remove', id]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /No webhook with id/);
    });

    it('refuses bad input with a clear message', async () => {
      const noUrl = await cli(env, ['webhook', 'add']);
      assert.equal(noUrl.code, 2);
      assert.match(noUrl.stderr, /--url is required/);
      const badCode = await cli(env, ['webhook', 'add', '--url', 'https://example.com/h', '--events', 'login_success,bogus']);
      assert.equal(badCode.code, 1);
      assert.match(badCode.stderr, /Unknown event code: bogus/);
      const badUrl = await cli(env, ['webhook', 'add', '--url', 'ftp://example.com/h']);
      assert.equal(badUrl.code, 1);
      assert.match(badUrl.stderr, /https:\/\//);
      assert.equal((await cli(env, ['webhook', 'remove'])).code, 2);
      assert.equal((await cli(env, ['webhook', 'deliveries', '--status', 'lost'])).code, 2);
      assert.deepEqual(JSON.parse((await cli(env, ['webhook', 'list', '--json'])).stdout), [], 'nothing was added');
    });
  });
}

describe('portcullis webhook --help', () => {
  it('lists the webhook commands and documents each', async () => {
    const group = await cli({}, ['webhook', '--help']);
    assert.equal(group.code, 0);
    const names = ['add', 'list', 'remove', 'disable', 'enable', 'deliveries', 'test'];
    for (const name of names) assert.match(group.stdout, new RegExp(`portcullis webhook ${name}`));
    for (const name of names) {
      const help = await cli({}, ['webhook', name, '--help']);
      assert.equal(help.code, 0, name);
      assert.match(help.stdout, /Usage: portcullis webhook/, name);
    }
    const add = (await cli({}, ['webhook', 'add', '--help'])).stdout;
    assert.match(add, /Portcullis-Signature: t=<unix seconds>,v1=/);
    assert.match(add, /login_failed_password/, 'the event codes are listed');
    assert.match((await cli({}, ['--help'])).stdout, /webhook deliveries/);
  });
});
