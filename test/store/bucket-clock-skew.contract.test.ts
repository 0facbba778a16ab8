// RateLimitStore.take when nodes' clocks disagree, on SQLite, PostgreSQL and Redis: time never runs backwards for a
// bucket. A take with an older `now` refills nothing and leaves updated_at where it was, so a later take cannot be
// credited the same interval twice; and every backend gives the same answers for the same out-of-order sequence.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/databases.js';
import { deleteRedisKeys, randomRedisPrefix, redisUrl } from '../helpers/protection.js';
import { T0, unique } from './contract-fixtures.js';
import { createRedisProtection } from '../../src/store/redis/redis-protection.js';
import type { RateLimitStore } from '../../src/store/store.js';

interface BucketBackend {
  name: string;
  create(): Promise<{ buckets: RateLimitStore; dispose(): Promise<void> }>;
}

function bucketBackends(): BucketBackend[] {
  const list: BucketBackend[] = backends().map((backend) => ({
    name: backend.name,
    async create() {
      const context = await backend.create();
      return { buckets: context.store.buckets, dispose: () => context.dispose() };
    },
  }));
  const url = redisUrl();
  if (url) {
    list.push({
      name: 'redis',
      async create() {
        const prefix = randomRedisPrefix();
        const redis = createRedisProtection(url, { prefix });
        return {
          buckets: redis.buckets,
          async dispose() {
            await redis.close();
            await deleteRedisKeys(url, `${prefix}*`);
          },
        };
      },
    });
  }
  return list;
}

const CAP = 3;
// 8 s per token and skews in whole seconds: every fraction is exact in binary, so all backends agree to the bit.
const REFILL = 8_000;
const SKEW = 5_000;

/** Takes at these times (ms after the start), in this order, as requests reaching the store from nodes with skewed clocks. */
const SEQUENCE = [0, -SKEW, 0, -SKEW, 3_000, -2_000, 8_000, 8_000 - SKEW, 20_000, 16_000, 30_000, -60_000, 44_000];

const results: Record<string, { allowed: boolean; tokens: number; updatedAt: number | undefined }[]> = {};

for (const backend of bucketBackends()) {
  describe(`token buckets with out-of-order clocks on ${backend.name}`, () => {
    let buckets: RateLimitStore;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ buckets, dispose } = await backend.create());
    });
    after(async () => {
      await dispose();
    });

    it('a take with an older now refills nothing and never moves updated_at back', async () => {
      // Threat: a node whose clock is behind rewinding a bucket's updated_at, so the next take from a node on time is
      // credited the same seconds again: extra failed logins per IP beyond the configured allowance.
      const key = unique('skew');
      const T = T0;
      assert.deepEqual(await buckets.take(key, CAP, REFILL, T), { allowed: true, tokens: 2 });
      assert.deepEqual(await buckets.get(key), { key, tokens: 2, updatedAt: T });

      assert.deepEqual(await buckets.take(key, CAP, REFILL, T - SKEW), { allowed: true, tokens: 1 }, 'no negative refill and no extra token: exactly one spent');
      assert.deepEqual(await buckets.get(key), { key, tokens: 1, updatedAt: T }, 'updated_at stays at T');

      assert.deepEqual(await buckets.take(key, CAP, REFILL, T), { allowed: true, tokens: 0 }, 'back at T: nothing to refill (no time passed since T)');
      assert.deepEqual(await buckets.get(key), { key, tokens: 0, updatedAt: T });

      assert.deepEqual(await buckets.take(key, CAP, REFILL, T - SKEW), { allowed: false, tokens: 0 }, 'an empty bucket seen from the past is empty, not negative');
      assert.deepEqual(await buckets.take(key, CAP, REFILL, T + REFILL - 1), { allowed: false, tokens: (REFILL - 1) / REFILL }, 'the refill counts from T, not from T - skew');
      assert.deepEqual(await buckets.take(key, CAP, REFILL, T + REFILL), { allowed: true, tokens: 0 }, 'exactly one token one interval after T');
      assert.deepEqual(await buckets.get(key), { key, tokens: 0, updatedAt: T + REFILL });
    });

    it('a skewed sequence spends exactly the tokens that the latest time seen allows', async () => {
      const key = unique('skew-seq');
      const seen: (typeof results)[string] = [];
      for (const offset of SEQUENCE) {
        const taken = await buckets.take(key, CAP, REFILL, T0 + offset);
        seen.push({ ...taken, updatedAt: (await buckets.get(key))?.updatedAt });
      }
      results[backend.name] = seen;
      // Only the latest time seen counts: by 44 s the bucket has earned its capacity plus 44 s / 8 s = 5.5 tokens, no
      // more, however often older clocks asked in between. 7 were spent and 1.5 are left.
      assert.equal(seen.filter((r) => r.allowed).length, 7, 'seven takes allowed');
      assert.equal(seen.at(-1)?.tokens, CAP + 44_000 / REFILL - 7, 'spent plus left is exactly what 44 s allows');
      const latest = seen.map((r) => r.updatedAt ?? 0);
      assert.deepEqual(latest, [...latest].sort((a, b) => a - b), 'updated_at never decreases');
      assert.equal(latest.at(-1), T0 + 44_000);
      for (const r of seen) assert.ok(r.tokens >= 0 && r.tokens <= CAP, `tokens within [0, ${CAP}]: ${r.tokens}`);
    });
  });
}

describe('token buckets with out-of-order clocks: every backend agrees', () => {
  it('SQLite, PostgreSQL and Redis return the same results for the same skewed sequence', () => {
    const names = Object.keys(results);
    assert.ok(names.length >= 1);
    for (const name of names.slice(1)) assert.deepEqual(results[name], results[names[0]!], `${name} matches ${names[0]}`);
  });
});
