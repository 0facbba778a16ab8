// `npm run bench`: each figure is a ratio to a baseline measured in the same run (this machine is shared and noisy).
// Baseline: raw argon2id verify throughput with the production parameters, at the same concurrency.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPasswordHasher } from '../src/crypto/password-hasher.js';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config/index.js';
import { createLogger } from '../src/logging/create-logger.js';
import { createUser } from '../src/admin/users.js';
import { attemptPasswordLogin } from '../src/login/password-attempt.js';
import { runBreachBench } from './breach.js';

const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);
const CONCURRENCY = 4;
const PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Runs `op` from CONCURRENCY loops for DURATION_MS and returns operations per second. */
async function throughput(op: (i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const end = Date.now() + DURATION_MS;
  const start = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      while (Date.now() < end) {
        await op(worker * 1_000_000 + done);
        done++;
      }
    }),
  );
  return done / ((Date.now() - start) / 1000);
}

const dataDir = mkdtempSync(join(tmpdir(), 'pc-bench-'));
const config = parseConfig({ nodeEnv: 'test', dataDir, secret: 'bench-secret-bench-secret-bench-secret-0123', argon2: PARAMS, logLevel: 'silent', demo: false });
const app = await createApp({ config, logger: createLogger('silent') });
const deps = { store: app.store, hasher: app.hasher, clock: app.clock };
await createUser(deps, { email: 'bench@example.com', password: 'correct horse battery' });
const hasher = createPasswordHasher(PARAMS);
const stored = await hasher.hash('correct horse battery');


const results: { name: string; opsPerSec: number; baseline: string }[] = [];
const raw = await throughput(() => hasher.verify(stored, 'correct horse battery'));
results.push({ name: 'raw argon2id verify (baseline)', opsPerSec: raw, baseline: 'raw' });

// A successful password login through the HTTP layer: CSRF, pipeline (throttle, reservation, verify, events), session.
const csrfPage = await app.server.inject({ method: 'GET', url: '/login' });
const cookie = String(csrfPage.headers['set-cookie']).split(';')[0] as string;
const csrf = /name="csrf" value="([^"]+)"/.exec(csrfPage.body)?.[1] ?? '';
const httpLogin = await throughput(async (i) => {
  const res = await app.server.inject({
    method: 'POST',
    url: '/login',
    remoteAddress: `10.0.${(i >> 8) & 255}.${i & 255}`,
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ csrf, email: 'bench@example.com', password: 'correct horse battery' }).toString(),
  });
  if (res.statusCode !== 303) throw new Error(`login failed: ${res.statusCode}`);
});
results.push({ name: 'HTTP password login (success)', opsPerSec: httpLogin, baseline: 'raw' });

// A blocked attempt: the cheap checks refuse it before any hashing, so it should be far cheaper than a verify.
for (let i = 0; i < 10; i++) {
  await app.server.inject({
    method: 'POST',
    url: '/login',
    remoteAddress: '192.0.2.1',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ csrf, email: 'bench@example.com', password: `wrong ${i}` }).toString(),
  });
}
const blocked = await throughput(async () => {
  const res = await app.server.inject({
    method: 'POST',
    url: '/login',
    remoteAddress: '192.0.2.1',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ csrf, email: 'bench@example.com', password: 'wrong again' }).toString(),
  });
  if (res.statusCode !== 429) throw new Error(`expected a block, got ${res.statusCode}`);
});
results.push({ name: 'HTTP blocked attempt (no hashing)', opsPerSec: blocked, baseline: 'raw' });

// The pipeline alone (no HTTP), for a wrong password: reservation plus verify plus failure event.
let n = 0;
const pipeline = await throughput(async () =>
  attemptPasswordLogin(
    {
      users: app.store.users,
      events: app.store.events,
      hasher: app.hasher,
      clock: app.clock,
      breach: { check: async () => ({ breached: false, source: 'none' }), blockLogin: true },
      bot: null,
    risk: null,
      protection: {
        attempts: app.store.attempts,
        buckets: app.store.buckets,
        allowlist: { has: () => false },
        bruteForce: { threshold: 100, blockDurationMs: 1000, accountLockout: false, accountLockoutThreshold: 100 },
        throttle: { capacity: 1_000_000, refillMs: 1 },
        onBlockStarted: async () => undefined,
        onThrottled: async () => undefined,
      },
    },
    { email: `nobody${n++}@example.com`, password: 'wrong', ip: '198.51.100.7', userAgent: null, clientId: null, transactionId: 'bench', captcha: {}, proof: null, deviceToken: null },
  ),
);
results.push({ name: 'pipeline, unknown account (dummy verify)', opsPerSec: pipeline, baseline: 'raw' });

console.log(`\nPortcullis benchmarks (${DURATION_MS} ms each, concurrency ${CONCURRENCY}, argon2id m=${PARAMS.memoryCost} t=${PARAMS.timeCost} p=${PARAMS.parallelism}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? 4})\n`);
console.log('benchmark'.padEnd(44) + 'ops/s'.padStart(10) + '   ratio to raw argon2id verify');
for (const r of results) console.log(r.name.padEnd(44) + r.opsPerSec.toFixed(1).padStart(10) + `   ${(r.opsPerSec / raw).toFixed(2)}`);
console.log('\nReading: a login costs one argon2id verify plus bookkeeping, so its ratio should stay close to 1;');
console.log('a blocked attempt skips hashing, so its ratio should be well above 1.');

await app.close();
rmSync(dataDir, { recursive: true, force: true });

// The breached-password index benchmark (also runs alone: npm run bench:breach).
await runBreachBench();
