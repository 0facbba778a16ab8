// Helpers for the attack-protection suites: test Redis, an instrumented hasher, the app on each backend, and the CLI in-process.
import { randomBytes, randomInt } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { Redis } from 'ioredis';
import type { LightMyRequestResponse } from 'fastify';
import type { PasswordHasher } from '../../src/crypto/password-hasher.js';
import type { Clock } from '../../src/domain/clock.js';
import { runCli } from '../../src/cli/run-cli.js';
import { createTestApp, type TestApp } from './app.js';
import { createPostgresDatabase, postgresUrl } from './databases.js';
import type { Browser } from './oidc-flow.js';
import { browserFrom, csrfFrom } from './account-browser.js';

/** The test Redis URL; with CI=true a missing one is an error (never a silent skip). */
export function redisUrl(): string | null {
  const url = process.env.PORTCULLIS_TEST_REDIS_URL;
  if (!url && process.env.CI === 'true') {
    throw new Error('CI=true but PORTCULLIS_TEST_REDIS_URL is not set: Redis tests must run in CI.');
  }
  return url || null;
}

/** A key prefix no other test (or concurrent run) uses. */
export function randomRedisPrefix(): string {
  return `portcullis-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key matching `pattern` (a Redis glob), and, when given, only those containing one of `markers`. */
export async function deleteRedisKeys(url: string, pattern: string, markers: readonly string[] = []): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: false });
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      const mine = markers.length ? keys.filter((k) => markers.some((m) => k.includes(m))) : keys;
      if (mine.length) deleted += await redis.del(...mine);
    } while (cursor !== '0');
    return deleted;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Counts of argon2 work done through one hasher. */
export interface HashCounter {
  verify: number;
  dummyVerify: number;
  hash: number;
  /** Password verifications of any kind (real and dummy): each is one argon2 run on a guess. */
  readonly verifications: number;
  reset(): void;
}

/**
 * Wraps the hasher's methods in place. The login pipeline holds this same object (src/app.ts passes `hasher`
 * to both the app and `attempt`), so every verification the pipeline does is counted; no timing involved.
 */
export function countHashing(hasher: PasswordHasher): HashCounter {
  const counter = {
    verify: 0,
    dummyVerify: 0,
    hash: 0,
    get verifications() {
      return this.verify + this.dummyVerify;
    },
    reset() {
      this.verify = 0;
      this.dummyVerify = 0;
      this.hash = 0;
    },
  };
  const { verify, dummyVerify, hash } = hasher;
  hasher.verify = async (storedHash, password) => {
    counter.verify += 1;
    return verify.call(hasher, storedHash, password);
  };
  hasher.dummyVerify = async (password) => {
    counter.dummyVerify += 1;
    return dummyVerify.call(hasher, password);
  };
  hasher.hash = async (password) => {
    counter.hash += 1;
    return hash.call(hasher, password);
  };
  return counter;
}

/**
 * A random address in 100.64.0.0/10 (shared address space), so tests, and runs sharing one Redis, never share an IP.
 * It stays clear of the ranges tests allowlist or trust as proxies (192.0.2.0/24, 10.0.0.0/8).
 */
export function randomIpv4(): string {
  return `100.${64 + randomInt(64)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

/** A unique email; `tag` keeps same-length pairs easy (known vs unknown). */
export function uniqueEmail(tag: string): string {
  return `${tag}-${randomBytes(5).toString('hex')}@example.test`;
}

export interface BackendApp {
  app: TestApp;
  /** Remembers strings (IPs, emails) whose Redis keys dispose() deletes; a no-op without Redis. */
  track(...markers: string[]): void;
  dispose(): Promise<void>;
}

export interface AppBackend {
  name: 'sqlite' | 'postgres' | 'postgres+redis';
  create(overrides?: Record<string, unknown>, options?: { clock?: Clock }): Promise<BackendApp>;
}

/** The app on SQLite, on PostgreSQL, and on PostgreSQL with Redis counters (the last two when configured, required under CI). */
export function appBackends(): AppBackend[] {
  const list: AppBackend[] = [
    {
      name: 'sqlite',
      async create(overrides = {}, options = {}) {
        const app = await createTestApp(overrides, options);
        return { app, track: () => undefined, dispose: () => app.dispose() };
      },
    },
  ];
  const pg = postgresUrl();
  const redis = redisUrl();
  if (pg) {
    list.push({
      name: 'postgres',
      async create(overrides = {}, options = {}) {
        const database = await createPostgresDatabase(pg);
        const app = await createTestApp({ ...overrides, databaseUrl: database.url }, options);
        return {
          app,
          track: () => undefined,
          async dispose() {
            await app.dispose();
            await database.drop();
          },
        };
      },
    });
  }
  if (pg && redis) {
    list.push({
      name: 'postgres+redis',
      async create(overrides = {}, options = {}) {
        const database = await createPostgresDatabase(pg);
        const app = await createTestApp({ ...overrides, databaseUrl: database.url, redisUrl: redis }, options);
        const markers: string[] = [];
        return {
          app,
          // The app's Redis keys use the production prefix; emails appear URI-encoded in them.
          track: (...values) => markers.push(...values.flatMap((v) => [v, encodeURIComponent(v)])),
          async dispose() {
            await app.dispose();
            await database.drop();
            if (markers.length) await deleteRedisKeys(redis, 'portcullis:*', markers);
          },
        };
      },
    });
  }
  return list;
}

/** Runs the CLI in-process against the same data folder (and database) as `app`. */
export async function cliFor(app: TestApp, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c) => out.push(String(c)));
  stderr.on('data', (c) => err.push(String(c)));
  const code = await runCli(args, {
    stdout,
    stderr,
    stdin: Readable.from([]),
    env: {
      PORTCULLIS_DATA_DIR: app.config.dataDir,
      PORTCULLIS_SECRET: app.config.secret,
      PORTCULLIS_LOG_LEVEL: 'silent',
      ...(app.config.databaseUrl ? { PORTCULLIS_DATABASE_URL: app.config.databaseUrl } : {}),
      ...(app.config.redisUrl ? { PORTCULLIS_REDIS_URL: app.config.redisUrl } : {}),
      ...env,
    },
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Signs in at /login again and again from one browser (one IP), reusing one CSRF token: the cookie never changes. */
export class LoginClient {
  private csrf: string | null = null;
  constructor(readonly browser: Browser) {}

  /** Fetches the CSRF cookie and token; call it before firing concurrent attempts, which would otherwise race for the cookie. */
  async prepare(): Promise<this> {
    this.csrf ??= await csrfFrom(this.browser, '/login');
    return this;
  }

  async login(email: string, password: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    await this.prepare();
    return this.browser.postForm('/login', { csrf: this.csrf as string, email, password }, headers);
  }

  /** `n` sequential attempts; returns their statuses. */
  async fail(email: string, n: number, password = 'not the password 0'): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await this.login(email, password)).statusCode);
    return statuses;
  }
}

export function loginClient(app: TestApp, ip?: string): LoginClient {
  return new LoginClient(browserFrom(app, ip ? { ip } : {}));
}

/** A page body with the per-browser CSRF token and the given email masked, for comparing two responses. */
export function masked(body: string, email: string): string {
  return body.replace(/name="csrf" value="[^"]*"/g, 'name="csrf" value="X"').replaceAll(email, 'EMAIL');
}

export function repeat<T>(value: T, n: number): T[] {
  return Array.from({ length: n }, () => value);
}
