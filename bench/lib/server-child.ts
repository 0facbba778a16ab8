// A benchmark server process: hosts Portcullis (createApp), a bare Fastify app or a bare oidc-provider on 127.0.0.1,
// and answers the parent's commands over IPC (seed users, raw argon2 throughput, counters, memory, stop).
// Started by bench/lib/server.ts; never run by hand. Portcullis and oidc-provider are imported only when started, so a
// bare Fastify process holds no more than Fastify (its memory is the baseline of the memory benchmark).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { performance as perf } from 'node:perf_hooks';
import Fastify from 'fastify';
import formbody from '@fastify/formbody';
import type { App } from '../../src/app.js';

type Command = { id: number; cmd: string; args: Record<string, unknown> };

const closers: (() => Promise<void>)[] = [];

let sqlStatements = 0;
/** BENCH_SQL_PROFILE=<file>: time spent in each SQL statement, written to that file when the server stops. */
const sqlProfile: Record<string, { runs: number; ms: number }> | null = process.env.BENCH_SQL_PROFILE ? {} : null;

/**
 * Bench-only instrumentation: counts the SQL statements the app runs on SQLite. The app reuses prepared statements,
 * so the runs are counted (every run, get, all and iterate of any statement), not the prepares.
 */
async function countSqlStatements(): Promise<void> {
  const { default: Database } = await import('better-sqlite3');
  const probe = new Database(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = proto[method]!;
    proto[method] = function countedRun(this: { source: string }, ...args: unknown[]) {
      sqlStatements++;
      if (!sqlProfile) return original.apply(this, args);
      const started = perf.now();
      try {
        return original.apply(this, args);
      } finally {
        const entry = (sqlProfile[this.source] ??= { runs: 0, ms: 0 });
        entry.runs++;
        entry.ms += perf.now() - started;
      }
    };
  }
}

let app: App | null = null;
let rawStoredHash: string | undefined;
let bareProvider: import('oidc-provider').default | null = null;

/** The benchmark's Portcullis settings; each benchmark adds its own overrides. */
const BASE_CONFIG = {
  nodeEnv: 'development',
  secret: 'bench-secret-bench-secret-bench-secret-0123456789',
  publicUrl: 'http://localhost:3000',
  demo: false,
  // Request logging (info) would write two JSON lines per request; warn keeps the logger in place but quiet.
  logLevel: 'warn',
};

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function startPortcullis(overrides: Record<string, unknown>): Promise<{ port: number; dataDir: string }> {
  const [{ createApp }, { parseConfig }, { createLogger }] = await Promise.all([import('../../src/app.js'), import('../../src/config/index.js'), import('../../src/logging/create-logger.js')]);
  await countSqlStatements();
  const dataDir = mkdtempSync(join(tmpdir(), 'pc-bench-'));
  const config = parseConfig({ ...BASE_CONFIG, dataDir, ...overrides });
  app = await createApp({ config, logger: createLogger(config.logLevel) });
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  // A server in service has answered OIDC requests, and the first one switches on oidc-provider's AsyncLocalStorage,
  // which on Node 20 turns on promise hooks for the whole process (about 3% of a refused attempt's CPU). Measure in
  // that state, not in the cheaper one a fresh process is in.
  const discovery = await app.server.inject({ method: 'GET', url: '/oidc/.well-known/openid-configuration' });
  if (discovery.statusCode !== 200) throw new Error(`OIDC discovery answered ${discovery.statusCode}`);
  // As `portcullis serve` does: the mail and webhook workers run beside the server.
  app.mailWorker.start();
  app.webhookWorker.start();
  const started = app;
  closers.push(async () => {
    await started.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { port: (started.server.server.address() as AddressInfo).port, dataDir };
}

/** The smallest Fastify app that answers the same requests with 200 (form parsing included, like the real one). */
async function startBareFastify(): Promise<{ port: number }> {
  const server = Fastify({ logger: false });
  await server.register(formbody);
  const ok = async () => 'ok';
  server.get('/login', ok);
  server.post('/login', ok);
  await server.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => server.close());
  return { port: (server.server.address() as AddressInfo).port };
}

/** oidc-provider with its default in-memory adapter and the same client, grant and token settings as Portcullis. */
async function startBareOidc(args: { apiSecret: string }): Promise<{ port: number }> {
  const [{ default: Provider }, { ADMIN_SCOPES }] = await Promise.all([import('oidc-provider'), import('../../src/admin/principal.js')]);
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const server = http.createServer();
  const port = await listen(server);
  const provider = new Provider(`http://localhost:${port}`, {
    clients: [
      {
        client_id: 'bench-spa',
        redirect_uris: ['https://app.example.com/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      {
        client_id: 'bench-api',
        client_secret: args.apiSecret,
        redirect_uris: [],
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'users:read',
      },
    ],
    jwks: { keys: [{ ...jwk, kid: 'bench', alg: 'RS256', use: 'sig' }] } as never,
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub', 'amr', 'session_expires_at'], email: ['email', 'email_verified'], profile: ['name', 'updated_at'] },
    scopes: ['openid', 'offline_access', 'email', 'profile', ...ADMIN_SCOPES],
    features: { devInteractions: { enabled: false }, clientCredentials: { enabled: true }, revocation: { enabled: true }, userinfo: { enabled: true } },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub, email: `${sub}@example.com`, email_verified: true }) }),
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' },
    ttl: { AccessToken: 600, ClientCredentials: 600, IdToken: 3600, AuthorizationCode: 60, Interaction: 1800, Grant: 604800, Session: 604800, RefreshToken: 86400 },
    responseTypes: ['code'],
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  });
  server.on('request', provider.callback());
  bareProvider = provider;
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { port };
}

/** Refresh tokens for the bare provider, minted through its own models (a grant plus a refresh token, as after a code exchange). */
async function mintBareRefreshTokens(count: number): Promise<string[]> {
  const provider = bareProvider;
  if (!provider) throw new Error('no bare provider');
  const client = await provider.Client.find('bench-spa');
  const now = Math.floor(Date.now() / 1000);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const accountId = `user-${i}`;
    const grant = new provider.Grant({ accountId, clientId: 'bench-spa' });
    grant.addOIDCScope('openid email');
    const grantId = await grant.save();
    const token = new provider.RefreshToken({ accountId, client, grantId, scope: 'openid email', gty: 'authorization_code', authTime: now, iiat: now, rotations: 0, amr: ['pwd'] } as never);
    out.push(await token.save());
  }
  return out;
}

async function pool<T>(count: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await work(i);
      }
    }),
  );
  return out;
}

function requireApp(): App {
  if (!app) throw new Error('Portcullis is not started in this process');
  return app;
}

/** Raw argon2id verifies with the server's parameters, from `concurrency` loops on the libuv threadpool. */
async function argon2Raw(args: { durationMs: number; concurrency: number }) {
  const { createPasswordHasher } = await import('../../src/crypto/password-hasher.js');
  const hasher = createPasswordHasher(requireApp().config.argon2);
  // Hashed once per process, so the measured slices (and their CPU windows) hold verifies only.
  rawStoredHash ??= await hasher.hash('correct horse battery staple');
  const stored = rawStoredHash;
  const latencies: number[] = [];
  let done = 0;
  const start = performance.now();
  const end = start + args.durationMs;
  await Promise.all(
    Array.from({ length: args.concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (!(await hasher.verify(stored, 'correct horse battery staple'))) throw new Error('raw verify failed');
        latencies.push(performance.now() - t);
        done++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { verifies: done, seconds, perSec: done / seconds, latencies };
}

async function counterValues(name: string): Promise<Record<string, number>> {
  const metric = requireApp().metrics.registry.getSingleMetric(name);
  if (!metric) return {};
  const data = await metric.get();
  const out: Record<string, number> = {};
  for (const v of data.values) out[Object.values(v.labels).join(',') || 'total'] = v.value;
  return out;
}

async function handle(cmd: string, args: Record<string, unknown>): Promise<unknown> {
  switch (cmd) {
    case 'startPortcullis':
      return startPortcullis((args.config ?? {}) as Record<string, unknown>);
    case 'startBareFastify':
      return startBareFastify();
    case 'startBareOidc':
      return startBareOidc(args as { apiSecret: string });
    case 'mintBareRefreshTokens':
      return mintBareRefreshTokens(Number(args.count));
    case 'seedUsers': {
      const a = requireApp();
      const { prefix, count, password } = args as { prefix: string; count: number; password: string };
      const { createUser } = await import('../../src/admin/users.js');
      const deps = { store: a.store, hasher: a.hasher, clock: a.clock };
      const users = await pool(count, 4, async (i) => {
        const email = `${prefix}${i}@bench.example.com`;
        const pw = `${password}-${i}`;
        await createUser(deps, { email, password: pw, emailVerified: true });
        return { email, password: pw };
      });
      return users;
    }
    case 'addPublicClient': {
      const a = requireApp();
      const { addClient } = await import('../../src/admin/clients.js');
      await addClient(a.store, a.clock, { clientId: String(args.clientId), redirectUris: [String(args.redirectUri)], public: true, firstParty: true });
      return null;
    }
    case 'addApiClient': {
      const a = requireApp();
      const { addApiClient } = await import('../../src/admin/clients.js');
      const { secret } = await addApiClient(a.store, a.clock, { clientId: String(args.clientId), scopes: args.scopes as never });
      return { secret };
    }
    case 'argon2Raw':
      return argon2Raw(args as { durationMs: number; concurrency: number });
    case 'counters':
      return {
        argon2Verifies: (await counterValues('portcullis_argon2_verify_total')).total ?? 0,
        events: await counterValues('portcullis_security_events_total'),
      };
    case 'usage': {
      if (args.gc && typeof globalThis.gc === 'function') {
        globalThis.gc();
        globalThis.gc();
      }
      const cpu = process.cpuUsage();
      const elu = perf.eventLoopUtilization();
      return { memory: process.memoryUsage(), cpuSeconds: (cpu.user + cpu.system) / 1e6, systemCpuSeconds: cpu.system / 1e6, mainThreadCpuSeconds: mainThreadCpuSeconds(), eventLoop: { activeMs: elu.active, idleMs: elu.idle }, sqlStatements };
    }
    case 'stop':
      for (const close of closers.reverse()) await close().catch(() => undefined);
      if (sqlProfile && process.env.BENCH_SQL_PROFILE) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(`${process.env.BENCH_SQL_PROFILE}.${process.pid}.json`, JSON.stringify(sqlProfile, null, 1));
      }
      setImmediate(() => process.exit(0));
      return null;
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

/** utime + stime of the main thread (its task id is the process id) from /proc, in seconds; 0 where /proc is absent. */
function mainThreadCpuSeconds(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

process.on('message', (message: Command) => {
  handle(message.cmd, message.args).then(
    (result) => process.send?.({ id: message.id, ok: true, result }),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? `${error.message}\n${error.stack}` : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, ok: true, result: 'ready' });
