// Three real Portcullis processes on one PostgreSQL database and one Redis, as behind a round-robin load balancer:
// brute-force slots, IP throttling, CAPTCHA single use, the OIDC flow and the mail outbox must hold across nodes,
// and a node killed mid-load must lose no acknowledged write and make no message go out twice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createHasher, openStore } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { systemClock } from '../../src/domain/clock.js';
import { createUser } from '../../src/admin/users.js';
import { addClient } from '../../src/admin/clients.js';
import type { Store } from '../../src/store/store.js';
import { MESSAGES } from '../../src/http/password-login.js';
import { createPostgresDatabase, postgresUrl } from '../helpers/databases.js';
import { deleteRedisKeys, randomIpv4, redisUrl, uniqueEmail } from '../helpers/protection.js';
import { freePort, startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';
import { authorizeUrl, formAction, hiddenCsrf, pkcePair } from '../helpers/oidc-flow.js';

// With CI=true a missing URL throws here (the suite must run in CI); locally it skips with the reason below.
const PG_BASE = postgresUrl();
const REDIS = redisUrl();
const unset = [PG_BASE ? null : 'PORTCULLIS_TEST_DATABASE_URL', REDIS ? null : 'PORTCULLIS_TEST_REDIS_URL'].filter((v) => v !== null);
const skip = unset.length ? `multi-node tests need a real PostgreSQL and Redis, and ${unset.join(' and ')} ${unset.length > 1 ? 'are' : 'is'} not set (with CI=true that is an error, not a skip)` : false;

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'multi-node-secret-multi-node-secret-0123456789';
// Not a real-world password, so the breached-password check can never refuse it.
const PASSWORD = 'portcullis multi-node passphrase 9c2e';
const THRESHOLD = 10;
const REDIRECT_URI = 'https://app.example.com/callback';
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const START_TIMEOUT_MS = 90_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** How long the surviving nodes get to deliver every acknowledged message after a node died. */
const DRAIN_MS = 45_000;

// ---------------------------------------------------------------------------------------------------------------
// A trio of real processes sharing one database, one Redis, one SMTP sink, one secret and one public URL.

interface PortcullisNode {
  /** 1, 2 or 3, as in the scenario descriptions. */
  n: number;
  port: number;
  child: ChildProcess;
  /** The last lines the process wrote, for failure messages. */
  output: string[];
  exited: Promise<void>;
  killed: boolean;
}

interface Cluster {
  nodes: [PortcullisNode, PortcullisNode, PortcullisNode];
  publicUrl: string;
  /** host:port of the public URL, sent as Host on every request (all nodes sit behind one address). */
  publicHost: string;
  /** The test's own handle on the shared store (migrated before any node started). */
  store: Store;
  db: pg.Pool;
  smtp: TestSmtpServer;
  /** The nodes reach the SMTP sink through this relay, which can hold the conversation still (a slow mail server). */
  smtpGate: SmtpGate;
  /** Remembers IPs, emails and ids whose Redis keys are deleted at the end. */
  track(...markers: string[]): void;
  seedUser(email: string, password?: string): Promise<{ id: string; email: string }>;
  /** Recent output of every node, for failure messages. */
  logs(): string;
  dispose(): Promise<void>;
}

interface SmtpGate {
  port: number;
  /** From now on, bytes in either direction wait (new and pooled connections alike). */
  hold(): void;
  /** Lets everything that waited through, in order, and everything after it. */
  release(): void;
  close(): Promise<void>;
}

/** A TCP relay to the SMTP sink on 127.0.0.1:`target` that can hold every conversation where it is. */
async function startSmtpGate(target: number): Promise<SmtpGate> {
  let held = false;
  const queued: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (held) queued.push(() => to.write(chunk));
      else to.write(chunk);
    });
    from.on('close', () => {
      if (held) queued.push(() => to.destroy());
      else to.destroy();
    });
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: target });
    track(client);
    track(upstream);
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('smtp gate has no port');
  return {
    port: address.port,
    hold() {
      held = true;
    },
    release() {
      held = false;
      for (const run of queued.splice(0)) run();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

async function waitForHealth(node: PortcullisNode, deadline: number): Promise<void> {
  let exited = false;
  void node.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`node ${node.n} exited before it was healthy:\n${node.output.join('')}`);
    try {
      const res = await send(node.port, 'GET', '/healthz', { host: `127.0.0.1:${node.port}` }, undefined, 2_000);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await delay(150);
  }
  throw new Error(`node ${node.n} was not healthy within ${START_TIMEOUT_MS} ms:\n${node.output.join('')}`);
}

async function stopNode(node: PortcullisNode, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  const pid = node.child.pid;
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const done = await Promise.race([node.exited.then(() => true), delay(graceMs).then(() => false)]);
  if (!done) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await Promise.race([node.exited, delay(5_000)]);
  }
}

async function startCluster(options: { botMode: 'never' | 'always'; config?: Record<string, unknown> }): Promise<Cluster> {
  const base = PG_BASE as string;
  const redis = REDIS as string;
  const markers: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };
  try {
    const database = await createPostgresDatabase(base);
    cleanups.push(() => database.drop());
    const dataDir = mkdtempSync(join(tmpdir(), 'pc-multinode-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.close());
    const smtpGate = await startSmtpGate(smtp.port);
    cleanups.push(() => smtpGate.close());
    const ports = await distinctFreePorts(3);
    const publicUrl = `http://localhost:${ports[0]}`;
    const publicHost = new URL(publicUrl).host;

    const fileConfig = {
      mail: { pollInterval: '200ms', retryBaseDelay: '1s' },
      ipLists: { pollInterval: '200ms' },
      // Sign-up and reset forms are driven by a bare HTTP client here; only the login CAPTCHA is under test.
      bot: { signupMode: 'never', resetMode: 'never' },
      passkeys: { offerAfterPasswordLogin: false },
      ...options.config,
    };
    const configFile = join(dataDir, 'portcullis.json');
    writeFileSync(configFile, JSON.stringify(fileConfig));

    // Migrate once, before any node starts, so the three processes never race on the schema.
    const config = parseConfig({
      nodeEnv: 'test',
      databaseUrl: database.url,
      redisUrl: redis,
      secret: SECRET,
      dataDir,
      publicUrl,
      logLevel: 'silent',
      argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    });
    const store = await openStore(config);
    cleanups.push(() => store.close());
    const hasher = createHasher(config);
    const db = new pg.Pool({ connectionString: database.url, max: 4 });
    db.on('error', () => undefined);
    cleanups.push(() => db.end());
    cleanups.push(async () => {
      if (markers.length) await deleteRedisKeys(redis, 'portcullis:*', markers);
    });

    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      ...(process.env.HOME ? { HOME: process.env.HOME } : {}),
      ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
      NODE_ENV: 'test',
      PORTCULLIS_DATABASE_URL: database.url,
      PORTCULLIS_REDIS_URL: redis,
      PORTCULLIS_SECRET: SECRET,
      PORTCULLIS_PUBLIC_URL: publicUrl,
      PORTCULLIS_SMTP_URL: `smtp://127.0.0.1:${smtpGate.port}?ignoreTLS=true`,
      PORTCULLIS_HOST: '127.0.0.1',
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_ARGON2_MEMORY_KIB: '1024',
      PORTCULLIS_ARGON2_TIME_COST: '1',
      PORTCULLIS_LOG_LEVEL: 'warn',
      PORTCULLIS_DEMO: 'false',
      PORTCULLIS_BOT_MODE: options.botMode,
      // Every request comes from 127.0.0.1; each scenario names its client IP in X-Forwarded-For.
      PORTCULLIS_TRUST_PROXY: 'loopback',
      PORTCULLIS_CONFIG: configFile,
    };
    const nodes = ports.map((port, i): PortcullisNode => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve'], { cwd: REPO, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
      const output: string[] = [];
      const keep = (chunk: Buffer) => {
        output.push(String(chunk));
        if (output.length > 200) output.splice(0, output.length - 200);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      return { n: i + 1, port, child, output, exited, killed: false };
    }) as Cluster['nodes'];
    cleanups.push(async () => {
      await Promise.all(nodes.map((node) => stopNode(node, 'SIGTERM', 10_000)));
    });
    liveChildren.push(...nodes.map((node) => node.child));
    const deadline = Date.now() + START_TIMEOUT_MS;
    await Promise.all(nodes.map((node) => waitForHealth(node, deadline)));

    return {
      nodes,
      publicUrl,
      publicHost,
      store,
      db,
      smtp,
      smtpGate,
      track: (...values) => markers.push(...values.flatMap((v) => [v, encodeURIComponent(v)])),
      async seedUser(email, password = PASSWORD) {
        const user = await createUser({ store, hasher, clock: systemClock }, { email, password, emailVerified: true });
        markers.push(email, encodeURIComponent(email), user.id);
        return { id: user.id, email };
      },
      logs: () => nodes.map((node) => `--- node ${node.n} (port ${node.port}) ---\n${node.output.join('').slice(-4000)}`).join('\n'),
      dispose: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

// Whatever happens to the test process, no Portcullis child outlives it.
const liveChildren: ChildProcess[] = [];
process.once('exit', () => {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Plain HTTP over loopback, with a tiny cookie jar: each request picks its node, as a load balancer would.

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent: false, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} on port ${port}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface StoredCookie {
  name: string;
  value: string;
  path: string;
}

class Client {
  private readonly cookies = new Map<string, StoredCookie>();

  constructor(
    readonly cluster: Cluster,
    /** The client IP the nodes see (X-Forwarded-For from the loopback proxy). */
    readonly ip: string,
  ) {
    cluster.track(ip);
  }

  /** A path on the public origin, from a path or an absolute public URL. */
  path(url: string): string {
    if (url.startsWith('/')) return url;
    const parsed = new URL(url);
    assert.equal(parsed.origin, this.cluster.publicUrl, `expected a URL on the public origin, got ${url}`);
    return `${parsed.pathname}${parsed.search}`;
  }

  cookieHeader(path: string): string | undefined {
    const pathname = path.split('?')[0] ?? '/';
    const matching = [...this.cookies.values()]
      .filter((c) => c.path === '/' || pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  private store(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const v = rest.join('=');
        if (key.toLowerCase() === 'path' && v) path = v;
        if (key.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
        if (key.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const key = `${name}|${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  /** Sends to `node` with the public Host, this client's IP and cookies (or `cookieOverride`, to replay a captured request). */
  async request(node: PortcullisNode, method: string, url: string, form?: Record<string, string>, extra: { headers?: Record<string, string>; cookieOverride?: string } = {}): Promise<Reply> {
    const path = this.path(url);
    const cookie = extra.cookieOverride ?? this.cookieHeader(path);
    const headers: Record<string, string> = {
      host: this.cluster.publicHost,
      'x-forwarded-for': this.ip,
      'user-agent': USER_AGENT,
      ...(cookie ? { cookie } : {}),
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...extra.headers,
    };
    const reply = await send(node.port, method, path, headers, form ? new URLSearchParams(form).toString() : undefined);
    this.store(reply.headers['set-cookie']);
    return reply;
  }

  get(node: PortcullisNode, url: string): Promise<Reply> {
    return this.request(node, 'GET', url);
  }

  post(node: PortcullisNode, url: string, form: Record<string, string>, extra: { headers?: Record<string, string>; cookieOverride?: string } = {}): Promise<Reply> {
    return this.request(node, 'POST', url, form, extra);
  }
}

function locationOf(reply: Reply): string {
  const value = reply.headers.location;
  assert.equal(typeof value, 'string', `expected a redirect, got ${reply.status}: ${reply.body.slice(0, 300)}`);
  return value as string;
}

/** Opens /login on `node` and returns a client holding that sign-in transaction and its CSRF token. */
async function openLogin(cluster: Cluster, node: PortcullisNode, ip: string): Promise<{ client: Client; csrf: string; page: Reply }> {
  const client = new Client(cluster, ip);
  const page = await client.get(node, '/login');
  assert.equal(page.status, 200, `GET /login on node ${node.n}: ${page.status} ${page.body.slice(0, 300)}`);
  return { client, csrf: hiddenCsrf(page.body), page };
}

/** Security events per code, for one identifier (as typed at sign-in) or one client IP. */
async function countEvents(cluster: Cluster, where: { identifier?: string; ip?: string }): Promise<Record<string, number>> {
  const clauses: string[] = [];
  const values: string[] = [];
  if (where.identifier !== undefined) clauses.push(`identifier = $${values.push(where.identifier)}`);
  if (where.ip !== undefined) clauses.push(`ip = $${values.push(where.ip)}`);
  const { rows } = await cluster.db.query<{ code: string; n: string }>(`select code, count(*) as n from events where ${clauses.join(' and ')} group by code`, values);
  return Object.fromEntries(rows.map((r) => [r.code, Number(r.n)]));
}

/**
 * Refusals the nodes made, summed over the three: `portcullis_protection_decisions_total{kind}` counts the refusals
 * that wrote an event and those answered from a node's refusal memory (which write none), so it is the full count.
 */
async function protectionDecisions(cluster: Cluster, kind: string): Promise<number> {
  let total = 0;
  for (const node of cluster.nodes) {
    const { body } = await new Client(cluster, randomIpv4()).get(node, '/metrics');
    const line = body.split('\n').find((l) => l.startsWith(`portcullis_protection_decisions_total{kind="${kind}"}`));
    total += Number(line?.split(' ').at(-1) ?? Number.NaN);
  }
  return total;
}

/** Refusals recorded as events plus those the events say were answered from memory since the previous one. */
async function loggedRefusals(cluster: Cluster, code: string, where: { identifier?: string; ip?: string }): Promise<{ events: number; fromMemory: number }> {
  const clauses = [`code = $1`];
  const values: string[] = [code];
  if (where.identifier !== undefined) clauses.push(`identifier = $${values.push(where.identifier)}`);
  if (where.ip !== undefined) clauses.push(`ip = $${values.push(where.ip)}`);
  const { rows } = await cluster.db.query<{ details: string | Record<string, unknown> }>(`select details from events where ${clauses.join(' and ')}`, values);
  const detailsOf = (d: string | Record<string, unknown>) => (typeof d === 'string' ? (JSON.parse(d) as Record<string, unknown>) : d);
  const fromMemory = rows.reduce((sum, r) => sum + Number(detailsOf(r.details).refused_from_memory ?? 0), 0);
  return { events: rows.length, fromMemory };
}

function tally(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

const roundRobin = <T>(items: readonly T[], i: number): T => items[i % items.length] as T;

// ---------------------------------------------------------------------------------------------------------------

describe('three nodes, one database, one Redis: protection, OIDC and a node crash', { skip }, () => {
  let cluster: Cluster;

  before(async () => {
    if (skip) return;
    const started = Date.now();
    cluster = await startCluster({ botMode: 'never' });
    console.log(`multi-node: trio (bot mode never) healthy in ${Date.now() - started} ms`);
  }, { timeout: 150_000 });
  after(async () => {
    await cluster?.dispose();
  }, { timeout: 60_000 });

  test('200 concurrent wrong passwords for one account from one IP, spread over the nodes, check at most 10 passwords', async () => {
    // Threat: a botnet behind one address firing guesses at every node in parallel, so per-process counting would let
    // up to 3 x 10 (or more) guesses through before any node noticed.
    const { nodes } = cluster;
    const user = await cluster.seedUser(uniqueEmail('mn-race'));
    const ip = randomIpv4();
    cluster.track(ip);
    // 200 separate sign-in transactions, each opened on one node and submitted to the next.
    const attackers = await Promise.all(Array.from({ length: 200 }, (_, i) => openLogin(cluster, roundRobin(nodes, i), ip)));
    const decisionsBefore = await protectionDecisions(cluster, 'brute_force_block');
    const statuses: number[] = [];
    const WAVE = 20;
    for (let wave = 0; wave < attackers.length / WAVE; wave++) {
      const batch = attackers.slice(wave * WAVE, (wave + 1) * WAVE);
      const replies = await Promise.all(
        batch.map(({ client, csrf }, j) => client.post(roundRobin(nodes, wave * WAVE + j + 1), '/login', { csrf, email: user.email, password: `wrong guess ${wave}-${j}` })),
      );
      statuses.push(...replies.map((r) => r.status));
    }

    const byStatus = tally(statuses);
    assert.deepEqual(statuses.filter((s) => s >= 500), [], `no request may fail with a 5xx: ${JSON.stringify(byStatus)}\n${cluster.logs()}`);
    const events = await countEvents(cluster, { identifier: user.email });
    const verified = events.login_failed_password ?? 0;
    assert.ok(verified <= THRESHOLD, `at most ${THRESHOLD} password verifications across the nodes, got ${verified} (events ${JSON.stringify(events)})`);
    assert.equal(verified, THRESHOLD, `the ${THRESHOLD} reserved slots were all used (events ${JSON.stringify(events)})`);
    assert.equal(byStatus[401] ?? 0, verified, `exactly the verified attempts answered 401 (statuses ${JSON.stringify(byStatus)})`);
    assert.equal(byStatus[429] ?? 0, 200 - verified, `every other attempt was refused with 429 (statuses ${JSON.stringify(byStatus)})`);
    // Each node logs a refusal the stores decided and answers repeats for 2 s from memory (counted in the next event).
    const logged = await loggedRefusals(cluster, 'login_blocked', { identifier: user.email });
    assert.ok(logged.events >= 1 && logged.events + logged.fromMemory <= 200 - verified, `refusals logged: ${JSON.stringify(logged)}`);
    assert.equal((await protectionDecisions(cluster, 'brute_force_block')) - decisionsBefore, 200 - verified + 1, 'the metrics count every refusal (and the block start) over the nodes');
    assert.equal(events.ip_throttled ?? 0, 0, 'no refusal came from IP throttling (its 100 tokens were never all taken)');
    assert.equal(events.login_block_started ?? 0, 1, 'exactly one node started the block');
    const { rows: blockMail } = await cluster.db.query(`select id from outbox where to_address = $1 and template = 'account_blocked'`, [user.email]);
    assert.equal(blockMail.length, 1, 'the owner is emailed about the block exactly once');

    // The block holds on every node, even for the right password; another network is not affected.
    for (const node of nodes) {
      const { client, csrf } = await openLogin(cluster, node, ip);
      const reply = await client.post(node, '/login', { csrf, email: user.email, password: PASSWORD });
      assert.equal(reply.status, 429, `node ${node.n} refuses the blocked (account, IP) pair`);
      assert.ok(reply.body.includes(MESSAGES.blocked), `node ${node.n} shows the block page`);
    }
    const other = randomIpv4();
    const { client, csrf } = await openLogin(cluster, nodes[1], other);
    const fromElsewhere = await client.post(nodes[2], '/login', { csrf, email: user.email, password: PASSWORD });
    assert.equal(fromElsewhere.status, 303, `the owner signs in from another IP: ${fromElsewhere.status} ${fromElsewhere.body.slice(0, 300)}`);
  });

  test('a full OIDC login whose steps land on different nodes succeeds', async (t) => {
    // Threat: state kept in one process (interaction, PKCE challenge, code, grant, signing key) breaks the flow, or
    // worse, lets a step be replayed on another node. Every step below is served by a different process.
    const [n1, n2, n3] = cluster.nodes;
    const user = await cluster.seedUser(uniqueEmail('mn-oidc'));
    const clientId = `mn-spa-${randomBytes(4).toString('hex')}`;
    // Not first-party, so the consent step is part of the flow too.
    await addClient(cluster.store, systemClock, { clientId, redirectUris: [REDIRECT_URI], public: true, firstParty: false });
    const browser = new Client(cluster, randomIpv4());
    const { verifier, challenge } = pkcePair();
    const state = randomBytes(8).toString('hex');
    const nonce = randomBytes(8).toString('hex');
    const trail: string[] = [];
    const step = async (node: PortcullisNode, what: string, run: () => Promise<Reply>): Promise<Reply> => {
      const reply = await run();
      trail.push(`${what} on node ${node.n}: ${reply.status}`);
      assert.ok(reply.status < 500, `${what} on node ${node.n} failed: ${reply.status} ${reply.body.slice(0, 300)}\n${trail.join('\n')}`);
      return reply;
    };

    const authorize = await step(n1, 'authorize', () =>
      browser.get(n1, authorizeUrl({ client_id: clientId, response_type: 'code', scope: 'openid email', redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state, nonce })),
    );
    assert.equal(authorize.status, 303, trail.join('\n'));
    const loginPage = await step(n2, 'login page', () => browser.get(n2, locationOf(authorize)));
    assert.equal(loginPage.status, 200, trail.join('\n'));
    const login = await step(n3, 'password', () => browser.post(n3, formAction(loginPage.body), { csrf: hiddenCsrf(loginPage.body), email: user.email, password: PASSWORD }));
    assert.equal(login.status, 303, `${trail.join('\n')}\n${login.body.slice(0, 300)}`);

    // Then the redirects (resume, consent, resume) and the consent form, each hop on the next node: 1, 2, 3, 1, ...
    let current = login;
    let hop = 0;
    let consented = false;
    for (let guard = 0; guard < 8; guard++) {
      const node = roundRobin(cluster.nodes, hop++);
      if (current.status === 200 && current.body.includes('/confirm') && !consented) {
        consented = true;
        const body = current.body;
        current = await step(node, 'consent', () => browser.post(node, formAction(body), { csrf: hiddenCsrf(body) }));
        continue;
      }
      assert.ok(current.status >= 300 && current.status < 400, `unexpected page in the flow: ${current.status} ${current.body.slice(0, 300)}\n${trail.join('\n')}`);
      const to = locationOf(current);
      if (to.startsWith(REDIRECT_URI)) break;
      current = await step(node, `follow ${new URL(to, cluster.publicUrl).pathname}`, () => browser.get(node, to));
    }
    assert.ok(consented, `the consent step was shown and confirmed:\n${trail.join('\n')}`);
    const redirect = new URL(locationOf(current));
    assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT_URI, trail.join('\n'));
    assert.equal(redirect.searchParams.get('state'), state);
    const code = redirect.searchParams.get('code');
    assert.ok(code, `a code in ${redirect.href}`);

    const token = await step(n2, 'token', () =>
      new Client(cluster, randomIpv4()).post(n2, '/oidc/token', { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT_URI }),
    );
    assert.equal(token.status, 200, `token exchange on node 2: ${token.body}`);
    const tokens = JSON.parse(token.body) as { access_token: string; id_token: string };

    const me = await step(n3, 'userinfo', () => new Client(cluster, randomIpv4()).request(n3, 'GET', '/oidc/me', undefined, { headers: { authorization: `Bearer ${tokens.access_token}` } }));
    assert.equal(me.status, 200, `userinfo on node 3: ${me.body}`);
    const claims = JSON.parse(me.body) as { sub: string; email: string };
    assert.equal(claims.sub, user.id);
    assert.equal(claims.email, user.email);

    // Every node publishes the same keys, and the ID token (signed on node 2) verifies against node 3's JWKS.
    const published = await Promise.all(cluster.nodes.map(async (node) => JSON.parse((await new Client(cluster, randomIpv4()).get(node, '/oidc/jwks')).body) as { keys: { kid: string }[] }));
    const kids = published.map((set) => set.keys.map((k) => k.kid).sort().join(','));
    assert.deepEqual(kids, [kids[0], kids[0], kids[0]], 'the three nodes publish the same signing keys');
    const jwks = published[2] as { keys: { kid: string }[] };
    const [h, p, s] = tokens.id_token.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string };
    const jwk = jwks.keys.find((k) => k.kid === header.kid);
    assert.ok(jwk, `node 3 publishes the key ${header.kid} that signed the ID token (published: ${jwks.keys.map((k) => k.kid).join(', ')})`);
    assert.ok(verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk as never, format: 'jwk' }), Buffer.from(s, 'base64url')), 'the ID token signature verifies');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { iss: string; aud: string; sub: string; nonce: string };
    assert.equal(payload.iss, `${cluster.publicUrl}/oidc`);
    assert.equal(payload.aud, clientId);
    assert.equal(payload.sub, user.id);
    assert.equal(payload.nonce, nonce);

    // The code was single use on every node: a replay on node 3 is refused.
    t.diagnostic(trail.join(' -> '));
    const replay = await new Client(cluster, randomIpv4()).post(n3, '/oidc/token', { grant_type: 'authorization_code', code, code_verifier: verifier, client_id: clientId, redirect_uri: REDIRECT_URI });
    assert.equal(replay.status, 400, `a replayed code is refused on another node: ${replay.status} ${replay.body}`);
  });

  test('killing a node in the middle of a sign-up load loses no acknowledged write and sends no message twice', { timeout: 120_000 }, async () => {
    // Threat: a crash between "acknowledged" and "durable", two nodes delivering one outbox message (double emails),
    // or the messages a dead node had claimed never going out.
    const { nodes, db, smtp, smtpGate } = cluster;
    const victim = nodes[1];
    const TOTAL = 90;
    const CONCURRENCY = 9;
    const KILL_AFTER = 30;
    const tag = randomBytes(4).toString('hex');
    interface Attempt {
      email: string;
      pageNode: number;
      postNode: number;
      startedAfterKill: boolean;
      outcome: 'acknowledged' | 'refused' | 'connection_error';
      status?: number;
      detail?: string;
    }
    const attempts: Attempt[] = [];
    let next = 0;
    /** When node 2 was killed (0: not yet). */
    let killedAt = 0;
    let acknowledged = 0;
    let loadDone = false;

    async function signUp(i: number): Promise<void> {
      const email = `mn-crash-${tag}-${i}@example.test`;
      const ip = randomIpv4();
      cluster.track(email, ip);
      // The load balancer stops sending to node 2 once it is dead; requests already on their way there fail.
      const live = nodes.filter((node) => !node.killed);
      const pageNode = roundRobin(live, i);
      const postNode = roundRobin(live, i + 1);
      const attempt: Attempt = { email, pageNode: pageNode.n, postNode: postNode.n, startedAfterKill: killedAt !== 0, outcome: 'connection_error' };
      attempts.push(attempt);
      try {
        const client = new Client(cluster, ip);
        const page = await client.get(pageNode, '/signup');
        if (page.status !== 200) {
          Object.assign(attempt, { outcome: 'refused', status: page.status, detail: page.body.slice(0, 200) });
          return;
        }
        const reply = await client.post(postNode, '/signup', { csrf: hiddenCsrf(page.body), email, password: `${PASSWORD} ${i}`, name: '' });
        const ok = reply.status === 200 && reply.body.includes('Check your email');
        Object.assign(attempt, { outcome: ok ? 'acknowledged' : 'refused', status: reply.status, detail: ok ? undefined : reply.body.slice(0, 200) });
        if (ok) acknowledged += 1;
      } catch (error) {
        attempt.detail = (error as Error).message;
      }
    }

    // The mail server is slow while the load runs (greylisting, an overloaded relay): each node's worker claims a
    // batch and waits on it. Node 2 is killed mid-load while it holds its batch; the mail server recovers right after.
    smtpGate.hold();
    const killer = (async () => {
      try {
        while (!loadDone && acknowledged < 2 * KILL_AFTER) {
          if (acknowledged >= KILL_AFTER) {
            // One lease time per claimed batch: three means every node, node 2 included, holds messages.
            const { rows } = await db.query<{ batches: string }>(
              `select count(distinct locked_until) as batches from outbox where status = 'pending' and locked_until is not null and to_address like $1`,
              [`mn-crash-${tag}-%`],
            );
            if (Number(rows[0]?.batches ?? 0) >= 3) break;
          }
          await delay(50);
        }
        killedAt = Date.now();
        victim.killed = true;
        victim.child.kill('SIGKILL');
        await Promise.race([victim.exited, delay(5_000)]);
        await delay(300);
      } finally {
        smtpGate.release();
      }
    })();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) await signUp(next++);
      }),
    );
    loadDone = true;
    await killer;
    assert.equal(victim.child.signalCode, 'SIGKILL', 'node 2 died by SIGKILL');
    assert.ok(attempts.some((a) => a.startedAfterKill), 'node 2 was killed in the middle of the load');

    const acked = attempts.filter((a) => a.outcome === 'acknowledged');
    const summary = JSON.stringify(tally(attempts.map((a) => a.status ?? 0)));
    assert.deepEqual(attempts.filter((a) => (a.status ?? 0) >= 500), [], `no node answered with a 5xx (statuses ${summary})\n${cluster.logs()}`);
    // Only requests that touched the dead node may have failed; the other two nodes kept serving.
    const unexplained = attempts.filter((a) => a.outcome !== 'acknowledged' && !(a.pageNode === victim.n || a.postNode === victim.n));
    assert.deepEqual(unexplained, [], 'every sign-up that did not touch node 2 was acknowledged');
    assert.deepEqual(attempts.filter((a) => a.startedAfterKill && a.outcome !== 'acknowledged'), [], 'the surviving nodes acknowledged every sign-up sent after the kill');
    assert.ok(acked.length >= KILL_AFTER, `${acked.length} sign-ups acknowledged`);

    // Durable before acknowledged: the user, its event and its outbox message all exist for every 200.
    const emails = acked.map((a) => a.email);
    const users = await db.query<{ email: string }>('select email from users where email = any($1)', [emails]);
    const events = await db.query<{ identifier: string }>(`select identifier from events where code = 'signup' and identifier = any($1)`, [emails]);
    const queued = await db.query<{ id: string; to_address: string }>(`select id, to_address from outbox where template = 'verify_email' and to_address = any($1)`, [emails]);
    const missing = (rows: { [k: string]: string }[], column: string) => emails.filter((e) => !rows.some((r) => r[column] === e));
    assert.deepEqual(missing(users.rows, 'email'), [], 'every acknowledged sign-up has its user row');
    assert.deepEqual(missing(events.rows, 'identifier'), [], 'every acknowledged sign-up has its signup event');
    assert.deepEqual(missing(queued.rows, 'to_address'), [], 'every acknowledged sign-up has its verification email queued');
    assert.equal(queued.rows.length, emails.length, 'exactly one verification email was queued per acknowledged sign-up');

    // The two survivors drain the outbox, including anything the dead node had claimed (bounded wait).
    const ours = new Set(attempts.map((a) => a.email));
    const receivedFor = (email: string) => smtp.received.filter((m) => m.to.includes(email));
    const drainDeadline = Date.now() + DRAIN_MS;
    while (Date.now() < drainDeadline) {
      const pending = await db.query(`select 1 from outbox where status <> 'sent' and to_address = any($1) limit 1`, [[...ours]]);
      if (pending.rows.length === 0 && emails.every((e) => receivedFor(e).length > 0)) break;
      await delay(250);
    }
    // A few more poll intervals, so a late second delivery would be seen.
    await delay(1_500);

    const stuck = await db.query<{ id: string; to_address: string; status: string; attempts: number; locked_until: string | null; last_error: string | null }>(
      `select id, to_address, status, attempts, locked_until, last_error from outbox where status <> 'sent' and to_address = any($1)`,
      [[...ours]],
    );
    const stuckText = stuck.rows
      .map((r) => {
        const lease = r.locked_until === null ? 'not claimed' : `claimed, lease ends ${((Number(r.locked_until) - killedAt) / 1000).toFixed(1)} s after node 2 died`;
        return `  ${r.to_address}: ${r.status}, ${r.attempts} attempts, ${lease}${r.last_error ? `, last error: ${r.last_error}` : ''}`;
      })
      .join('\n');
    const notDelivered = emails.filter((e) => receivedFor(e).length === 0);
    assert.deepEqual(
      notDelivered,
      [],
      `every acknowledged sign-up's email reached the SMTP server within ${DRAIN_MS / 1000} s of the crash (messages a dead node had claimed wait until their outbox lease ends); still undelivered:\n${stuckText}`,
    );
    const twice = emails.filter((e) => receivedFor(e).length > 1);
    assert.deepEqual(twice, [], 'no acknowledged sign-up got its email twice');
    const mine = smtp.received.filter((m) => m.to.some((to) => ours.has(to)));
    const ids = mine.map((m) => m.messageId);
    assert.ok(ids.every((id) => id !== null), 'every delivered message carries its outbox Message-ID');
    assert.equal(new Set(ids).size, ids.length, `no outbox message was delivered twice (${ids.length} deliveries)`);
    const outboxIds = new Set((await db.query<{ id: string }>(`select id from outbox where to_address = any($1)`, [[...ours]])).rows.map((r) => `<${r.id}@portcullis>`));
    assert.deepEqual(ids.filter((id) => !outboxIds.has(id as string)), [], 'every delivery is one of the outbox messages');
    assert.equal(stuck.rows.length, 0, `the outbox drained completely:\n${stuckText}`);
  });
});

describe('three nodes: suspicious-IP throttling trips at its global count', { skip }, () => {
  const CAPACITY = 15;
  let cluster: Cluster;

  before(async () => {
    if (skip) return;
    const started = Date.now();
    cluster = await startCluster({ botMode: 'never', config: { throttle: { failedLoginsPerDay: CAPACITY } } });
    console.log(`multi-node: trio (throttle ${CAPACITY}) healthy in ${Date.now() - started} ms`);
  }, { timeout: 150_000 });
  after(async () => {
    await cluster?.dispose();
  }, { timeout: 60_000 });

  test(`failed logins for many unknown emails from one IP over three nodes: exactly ${CAPACITY} get 401, the rest 429`, async () => {
    // Threat: credential stuffing (one guess per address) from one IP, spread over the nodes so that each node's
    // own count would stay under the limit.
    const { nodes } = cluster;
    const ip = randomIpv4();
    const ATTEMPTS = 45;
    const attackers = await Promise.all(Array.from({ length: ATTEMPTS }, (_, i) => openLogin(cluster, roundRobin(nodes, i), ip)));
    const emails = attackers.map(() => uniqueEmail('mn-stuffing'));
    cluster.track(...emails);
    const decisionsBefore = await protectionDecisions(cluster, 'ip_throttled');
    const replies = await Promise.all(attackers.map(({ client, csrf }, i) => client.post(roundRobin(nodes, i + 1), '/login', { csrf, email: emails[i] as string, password: `guess ${i}` })));
    const statuses = replies.map((r) => r.status);
    const byStatus = tally(statuses);
    assert.deepEqual(statuses.filter((s) => s >= 500), [], `no 5xx: ${JSON.stringify(byStatus)}\n${cluster.logs()}`);
    assert.ok((byStatus[401] ?? 0) <= CAPACITY, `never more than ${CAPACITY} failed logins get through, got ${byStatus[401] ?? 0}`);
    assert.equal(byStatus[401] ?? 0, CAPACITY, `exactly ${CAPACITY} attempts were checked (statuses ${JSON.stringify(byStatus)})`);
    assert.equal(byStatus[429] ?? 0, ATTEMPTS - CAPACITY, `the rest were throttled (statuses ${JSON.stringify(byStatus)})`);
    for (const reply of replies.filter((r) => r.status === 429)) assert.ok(reply.body.includes(MESSAGES.throttled), 'a throttled attempt says so');
    const events = await countEvents(cluster, { ip });
    assert.equal(events.login_failed_unknown_user ?? 0, CAPACITY, `events: ${JSON.stringify(events)}`);
    const throttled = await loggedRefusals(cluster, 'ip_throttled', { ip });
    assert.ok(throttled.events >= 1 && throttled.events + throttled.fromMemory <= ATTEMPTS - CAPACITY, `refusals logged: ${JSON.stringify(throttled)}`);
    assert.equal((await protectionDecisions(cluster, 'ip_throttled')) - decisionsBefore, ATTEMPTS - CAPACITY, 'the metrics count every throttled attempt over the nodes');

    // Sequentially now: every node keeps refusing this IP, even for a real account's right password...
    const user = await cluster.seedUser(uniqueEmail('mn-throttled'));
    for (const node of nodes) {
      const { client, csrf } = await openLogin(cluster, node, ip);
      assert.equal((await client.post(node, '/login', { csrf, email: user.email, password: PASSWORD })).status, 429, `node ${node.n} still throttles the IP`);
    }
    // ...while another IP is not affected.
    const { client, csrf } = await openLogin(cluster, nodes[0], randomIpv4());
    const elsewhere = await client.post(nodes[2], '/login', { csrf, email: user.email, password: PASSWORD });
    assert.equal(elsewhere.status, 303, `another IP signs in: ${elsewhere.status} ${elsewhere.body.slice(0, 300)}`);
  });
});

describe('three nodes: a CAPTCHA solved through one node is accepted by another, and only once', { skip }, () => {
  let cluster: Cluster;

  before(async () => {
    if (skip) return;
    const started = Date.now();
    cluster = await startCluster({ botMode: 'always' });
    console.log(`multi-node: trio (bot mode always) healthy in ${Date.now() - started} ms`);
  }, { timeout: 150_000 });
  after(async () => {
    await cluster?.dispose();
  }, { timeout: 60_000 });

  /** The image challenge on a login page and its answer (stored next to its HMAC only when NODE_ENV=test). */
  async function solvedChallenge(page: Reply): Promise<{ captcha_id: string; captcha_answer: string }> {
    const id = /name="captcha_id" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(id, `the login page carries an image challenge: ${page.body.slice(0, 300)}`);
    const row = await cluster.store.oidc.find('Captcha', id, 0);
    const answer = row?.payload.testAnswer;
    assert.equal(typeof answer, 'string', `the nodes store the test answer of challenge ${id} (NODE_ENV=test)`);
    return { captcha_id: id, captcha_answer: answer as string };
  }

  test('solved on node 1, accepted on node 2; the same solution is refused on node 3', async () => {
    // Threat: a CAPTCHA farm solving once and replaying the token on every node (each node checking only its own memory).
    const [n1, n2, n3] = cluster.nodes;
    const user = await cluster.seedUser(uniqueEmail('mn-captcha'));

    // 1. Page and challenge from node 1, the solved sign-in submitted to node 2.
    const { client, csrf, page } = await openLogin(cluster, n1, randomIpv4());
    const solution = await solvedChallenge(page);
    const captured = client.cookieHeader('/login');
    const form = { csrf, email: user.email, password: PASSWORD, ...solution };
    const accepted = await client.post(n2, '/login', form);
    assert.equal(accepted.status, 303, `node 2 accepts the solution issued by node 1: ${accepted.status} ${accepted.body.slice(0, 300)}`);
    assert.equal(locationOf(accepted), '/account');
    assert.equal((await client.get(n3, '/account')).status, 200, 'the new session works on node 3');

    // 2. The very same request replayed to node 3 is refused. (The finished sign-in refuses it as well; the next test
    //    isolates the CAPTCHA's own single use.)
    const replay = await client.post(n3, '/login', form, { cookieOverride: captured });
    assert.notEqual(replay.status, 303, 'a replayed solution does not sign in again');
    assert.ok(replay.status >= 400 && replay.status < 500, `the replay is refused, not an error: ${replay.status}`);
    const events = await countEvents(cluster, { identifier: user.email });
    assert.equal(events.captcha_passed ?? 0, 1, `one CAPTCHA pass: ${JSON.stringify(events)}`);
    assert.equal(events.login_success ?? 0, 1, `one sign-in: ${JSON.stringify(events)}`);
  });

  test('the CAPTCHA is single use itself: once accepted (wrong password) on node 2, node 3 refuses it as replayed', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const user = await cluster.seedUser(uniqueEmail('mn-captcha-once'));
    const { client, csrf, page } = await openLogin(cluster, n1, randomIpv4());
    const solution = await solvedChallenge(page);

    const wrongPassword = await client.post(n2, '/login', { csrf, email: user.email, password: 'not the password', ...solution });
    assert.equal(wrongPassword.status, 401);
    assert.ok(wrongPassword.body.includes(MESSAGES.invalidCredentials), 'node 2 accepted the CAPTCHA and checked the password');

    const reused = await client.post(n3, '/login', { csrf, email: user.email, password: PASSWORD, ...solution });
    assert.equal(reused.status, 401, `node 3 refuses the spent solution: ${reused.status}`);
    assert.ok(reused.body.includes(MESSAGES.captchaWrong), 'node 3 asks for a new CAPTCHA instead of checking the password');
    const { rows } = await cluster.db.query<{ reason: string }>(`select reason from events where code = 'captcha_failed' and identifier = $1`, [user.email]);
    assert.deepEqual(rows.map((r) => r.reason), ['replayed'], 'the refusal is recorded as a replay');
    const events = await countEvents(cluster, { identifier: user.email });
    assert.equal(events.login_success ?? 0, 0, `no sign-in: ${JSON.stringify(events)}`);
  });

  test('one solution submitted to two nodes at the same moment signs in exactly once', async () => {
    const [n1, n2, n3] = cluster.nodes;
    const user = await cluster.seedUser(uniqueEmail('mn-captcha-race'));
    const { client, csrf, page } = await openLogin(cluster, n1, randomIpv4());
    const solution = await solvedChallenge(page);
    const cookie = client.cookieHeader('/login') as string;
    const form = { csrf, email: user.email, password: PASSWORD, ...solution };
    const replies = await Promise.all([n2, n3, n2, n3].map((node) => client.post(node, '/login', form, { cookieOverride: cookie })));
    const statuses = replies.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 303).length, 1, `exactly one submission signs in: ${JSON.stringify(statuses)}`);
    assert.deepEqual(statuses.filter((s) => s >= 500), [], `no 5xx: ${JSON.stringify(statuses)}`);
    const events = await countEvents(cluster, { identifier: user.email });
    assert.equal(events.captcha_passed ?? 0, 1, `one CAPTCHA pass: ${JSON.stringify(events)}`);
    assert.equal(events.login_success ?? 0, 1, `one sign-in: ${JSON.stringify(events)}`);
  });
});
