// Brute-force slots, token buckets and once-keys in Redis. Every read-modify-write is one Lua script, so it is atomic across nodes.
// While Redis is down every operation fails within about a second with `service_unavailable` (503): the protections
// fail closed, and nothing is queued to run later.
import { Redis } from 'ioredis';
import { PortcullisError } from '../../domain/errors.js';
import type { AttemptRecord, AttemptStore, BucketRecord, OnceStore, RateLimitStore } from '../store.js';

// KEYS[1] attempt hash, KEYS[2] per-identifier index set; ARGV: limit, now, stale, member, ttlMs
const RESERVE = `
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local limit = tonumber(ARGV[1])
if count > 0 and last <= tonumber(ARGV[3]) then count = 0 end
if count >= limit then return {0, count} end
count = count + 1
redis.call('HSET', KEYS[1], 'count', count, 'last', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {1, count}`;

// KEYS[1] bucket hash; ARGV: capacity, refillMs, now
const TAKE = `
local cap = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or ARGV[1])
local updated = tonumber(redis.call('HGET', KEYS[1], 'updated') or ARGV[3])
-- Takes from several nodes can arrive out of clock order: time never runs backwards for the bucket.
tokens = math.min(cap, tokens + math.max(0, now - updated) / refill)
if tokens < 1 then return {0, tostring(tokens)} end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', math.max(now, updated))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap * refill))
return {1, tostring(tokens)}`;

const REFUND = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens'))
redis.call('HSET', KEYS[1], 'tokens', tostring(math.min(tonumber(ARGV[1]), tokens + 1)))
return 1`;

// KEYS[1] once key, holding the time its claim ends; ARGV: now, expiresAt, ttlMs. Judged by the caller's `now`, like the SQL store.
const CLAIM = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if current > tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

export interface RedisProtection {
  attempts: AttemptStore;
  buckets: RateLimitStore;
  once: OnceStore;
  /** Resolves when Redis answers PING; throws `service_unavailable` otherwise (for /healthz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How long an operation waits for a (re)connection before failing. */
const CONNECT_WAIT_MS = 1_000;
/** How long one command may take once sent. */
const COMMAND_TIMEOUT_MS = 1_000;
/** The longest pause between reconnection attempts, so a node notices within it that Redis is back. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/** Replies that mean "Redis cannot serve now" rather than "this command is wrong". */
const UNAVAILABLE_REPLY = /^(LOADING|BUSY|OOM|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|MISCONF|NOREPLICAS)\b/;
const RETRY_AFTER_SECONDS = 60;

function unavailable(reason: string): PortcullisError {
  return new PortcullisError('service_unavailable', { detail: `Redis unavailable: ${reason}`, retryAfterSeconds: RETRY_AFTER_SECONDS });
}

/** Connection loss, timeouts and "cannot serve now" replies become `service_unavailable`; anything else (a bug) stays as it is. */
function classify(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error instanceof TypeError || error instanceof RangeError || error instanceof ReferenceError) return error;
  if (error.name === 'ReplyError' && !UNAVAILABLE_REPLY.test(error.message)) return error;
  return unavailable(error.message);
}

export function createRedisProtection(url: string, options: { prefix?: string; attemptTtlMs?: number } = {}): RedisProtection {
  const redis = new Redis(url, {
    lazyConnect: false,
    // No offline queue: a command issued while disconnected fails at once instead of waiting, and never runs late
    // (a brute-force reservation replayed after an outage would count an attempt that was already refused).
    enableOfflineQueue: false,
    // Likewise a command whose reply was lost with the connection is not resent on reconnect (it may have run).
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    // Keep trying for ever, at most a second apart, so the node recovers on its own once Redis is back.
    retryStrategy: (times: number) => Math.min(100 * times, MAX_RECONNECT_DELAY_MS),
  });
  // A Redis outage surfaces as 503 responses (see guarded below), never as a crashed process.
  redis.on('error', () => undefined);

  // One shared wait for the next 'ready' (at start and after a disconnect), each caller bounded by CONNECT_WAIT_MS.
  let nextReady: Promise<void> | null = null;
  async function whenReady(): Promise<void> {
    if (redis.status === 'ready') return;
    if (redis.status === 'end') throw unavailable('the connection is closed');
    nextReady ??= new Promise<void>((resolve) => {
      redis.once('ready', () => {
        nextReady = null;
        resolve();
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable(`not connected (status ${redis.status}) after ${CONNECT_WAIT_MS} ms`)), CONNECT_WAIT_MS);
    });
    try {
      await Promise.race([nextReady, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs one store operation against Redis, mapping outages to `service_unavailable`. */
  async function guarded<T>(operation: () => Promise<T>): Promise<T> {
    await whenReady();
    try {
      return await operation();
    } catch (error) {
      throw classify(error);
    }
  }

  /** The same store with every method guarded. */
  function guardAll<S extends object>(store: S): S {
    const entries = Object.entries(store).map(([name, method]) => [name, (...args: unknown[]) => guarded(() => (method as (...a: unknown[]) => Promise<unknown>)(...args))]);
    return Object.fromEntries(entries) as S;
  }

  const p = options.prefix ?? 'portcullis:';
  const attemptTtl = options.attemptTtlMs ?? 31 * 86_400_000;
  const attemptKey = (identifier: string, ipKey: string) => `${p}bf:${encodeURIComponent(identifier)}:${ipKey}`;
  const indexKey = (identifier: string) => `${p}bfidx:${encodeURIComponent(identifier)}`;
  const bucketKey = (key: string) => `${p}rl:${key}`;

  async function readAttempt(identifier: string, ipKey: string): Promise<AttemptRecord | null> {
    const data = await redis.hgetall(attemptKey(identifier, ipKey));
    if (!data.count) return null;
    return { identifier, ipKey, count: Number(data.count), lastAt: Number(data.last) };
  }

  const attempts: AttemptStore = guardAll<AttemptStore>({
    async reserve(identifier, ipKey, limit, now, resetAfterMs) {
      const [ok, count] = (await redis.eval(RESERVE, 2, attemptKey(identifier, ipKey), indexKey(identifier), limit, now, now - resetAfterMs, ipKey, Math.max(attemptTtl, resetAfterMs))) as [number, number];
      return { allowed: ok === 1, count: Number(count) };
    },
    get: readAttempt,
    async clear(identifier, ipKey) {
      await redis.srem(indexKey(identifier), ipKey);
      return (await redis.del(attemptKey(identifier, ipKey))) > 0;
    },
    async clearIdentifier(identifier) {
      const ips = await redis.smembers(indexKey(identifier));
      const deleted = ips.length > 0 ? await redis.del(...ips.map((ip) => attemptKey(identifier, ip))) : 0;
      await redis.del(indexKey(identifier));
      return deleted;
    },
    async listAtLeast(count, since, limit) {
      const out: AttemptRecord[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${p}bf:*`, 'COUNT', 200);
        cursor = next;
        for (const key of keys) {
          const rest = key.slice(`${p}bf:`.length);
          const sep = rest.indexOf(':');
          const record = await readAttempt(decodeURIComponent(rest.slice(0, sep)), rest.slice(sep + 1));
          if (record && record.count >= count && record.lastAt > since) out.push(record);
        }
      } while (cursor !== '0' && out.length < limit);
      return out.sort((a, b) => b.lastAt - a.lastAt).slice(0, limit);
    },
  });

  async function readBucket(key: string): Promise<BucketRecord | null> {
    const data = await redis.hgetall(bucketKey(key));
    return data.tokens === undefined ? null : { key, tokens: Number(data.tokens), updatedAt: Number(data.updated) };
  }

  const buckets: RateLimitStore = guardAll<RateLimitStore>({
    async take(key, capacity, refillMs, now) {
      const [ok, tokens] = (await redis.eval(TAKE, 1, bucketKey(key), capacity, refillMs, now)) as [number, string];
      return { allowed: ok === 1, tokens: Number(tokens) };
    },
    async refund(key, capacity) {
      await redis.eval(REFUND, 1, bucketKey(key), capacity);
    },
    get: readBucket,
    async list(prefix, limit) {
      const out: BucketRecord[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${bucketKey(prefix)}*`, 'COUNT', 200);
        cursor = next;
        for (const key of keys) {
          const record = await readBucket(key.slice(`${p}rl:`.length));
          if (record) out.push(record);
        }
      } while (cursor !== '0' && out.length < limit);
      return out.sort((a, b) => b.updatedAt - a.updatedAt).slice(0, limit);
    },
    async reset(key) {
      return (await redis.del(bucketKey(key))) > 0;
    },
  });

  const once: OnceStore = guardAll<OnceStore>({
    async claim(key, ttlMs, now) {
      return (await redis.eval(CLAIM, 1, `${p}once:${key}`, now, now + ttlMs, ttlMs)) === 1;
    },
    async isHeld(key, now) {
      return Number((await redis.get(`${p}once:${key}`)) ?? '0') > now;
    },
  });

  return {
    attempts,
    buckets,
    once,
    async ping() {
      await guarded(() => redis.ping());
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
