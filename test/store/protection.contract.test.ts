// Contract suite for AttemptStore, RateLimitStore and OnceStore, run on SQLite, PostgreSQL and Redis: the same semantics, atomic under concurrency.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backends } from '../helpers/databases.js';
import { deleteRedisKeys, randomRedisPrefix, redisUrl } from '../helpers/protection.js';
import { T0, unique } from './contract-fixtures.js';
import { createRedisProtection } from '../../src/store/redis/redis-protection.js';
import type { AttemptStore, OnceStore, RateLimitStore } from '../../src/store/store.js';

interface ProtectionStores {
  attempts: AttemptStore;
  buckets: RateLimitStore;
  once: OnceStore;
}

interface ProtectionBackend {
  name: string;
  create(): Promise<{ stores: ProtectionStores; dispose(): Promise<void> }>;
}

const DAY = 86_400_000;
const MONTH = 30 * DAY;

function protectionBackends(): ProtectionBackend[] {
  const list: ProtectionBackend[] = backends().map((backend) => ({
    name: backend.name,
    async create() {
      const context = await backend.create();
      const { attempts, buckets, once } = context.store;
      return { stores: { attempts, buckets, once }, dispose: () => context.dispose() };
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
          stores: { attempts: redis.attempts, buckets: redis.buckets, once: redis.once },
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

for (const backend of protectionBackends()) {
  describe(`protection stores on ${backend.name}`, () => {
    let stores: ProtectionStores;
    let dispose: () => Promise<void>;
    before(async () => {
      ({ stores, dispose } = await backend.create());
    });
    after(async () => {
      await dispose();
    });

    /** Each test works at its own far-apart time, so records left by earlier tests are older than any `since` it uses. */
    let epoch = 0;
    function isolatedNow(): number {
      epoch += 1;
      return T0 + epoch * 1_000 * DAY;
    }

    describe('AttemptStore', () => {
      it('reserve takes slots 1..limit, then refuses at the limit without touching the record', async () => {
        const { attempts } = stores;
        const id = unique('id');
        const now = isolatedNow();
        const results = [];
        for (let i = 0; i < 4; i++) results.push(await attempts.reserve(id, '203.0.113.1', 3, now + i, MONTH));
        assert.deepEqual(results, [
          { allowed: true, count: 1 },
          { allowed: true, count: 2 },
          { allowed: true, count: 3 },
          { allowed: false, count: 3 },
        ]);
        assert.deepEqual(await attempts.get(id, '203.0.113.1'), { identifier: id, ipKey: '203.0.113.1', count: 3, lastAt: now + 2 }, 'a refused reservation does not move lastAt');
        assert.equal(await attempts.get(id, '203.0.113.2'), null, 'another IP key has no record');
        assert.equal(await attempts.get(unique('id'), '203.0.113.1'), null, 'another identifier has no record');
        assert.deepEqual(await attempts.reserve(id, '203.0.113.2', 3, now, MONTH), { allowed: true, count: 1 }, 'IP keys count separately');
      });

      it('a record starts over once its last attempt is resetAfterMs old, and not a millisecond earlier', async () => {
        // Threat: a block that ends early (or never ends) because the window edge is off by one between backends.
        const { attempts } = stores;
        const id = unique('id');
        const ip = '2001:db8:1:2::/64';
        const now = isolatedNow();
        for (let i = 0; i < 2; i++) assert.equal((await attempts.reserve(id, ip, 2, now, MONTH)).allowed, true);
        assert.deepEqual(await attempts.reserve(id, ip, 2, now + MONTH - 1, MONTH), { allowed: false, count: 2 });
        assert.deepEqual(await attempts.reserve(id, ip, 2, now + MONTH, MONTH), { allowed: true, count: 1 }, 'the count restarts at 1');
        assert.deepEqual(await attempts.get(id, ip), { identifier: id, ipKey: ip, count: 1, lastAt: now + MONTH });
        // A stale record below the limit restarts too, rather than adding to old failures.
        const other = unique('id');
        await attempts.reserve(other, ip, 5, now, 1000);
        assert.deepEqual(await attempts.reserve(other, ip, 5, now + 1000, 1000), { allowed: true, count: 1 });
      });

      it('clear forgets one (identifier, IP key) and reports whether it existed', async () => {
        const { attempts } = stores;
        const id = unique('id');
        const now = isolatedNow();
        await attempts.reserve(id, '198.51.100.1', 1, now, MONTH);
        await attempts.reserve(id, '198.51.100.2', 1, now, MONTH);
        assert.equal((await attempts.reserve(id, '198.51.100.1', 1, now, MONTH)).allowed, false);
        assert.equal(await attempts.clear(id, '198.51.100.1'), true);
        assert.equal(await attempts.clear(id, '198.51.100.1'), false, 'a second clear finds nothing');
        assert.equal(await attempts.get(id, '198.51.100.1'), null);
        assert.deepEqual(await attempts.reserve(id, '198.51.100.1', 1, now, MONTH), { allowed: true, count: 1 }, 'a cleared pair starts over');
        assert.equal((await attempts.get(id, '198.51.100.2'))?.count, 1, 'the other IP key is untouched');
      });

      it('clearIdentifier forgets every IP key of one identifier and no other identifier', async () => {
        const { attempts } = stores;
        const id = unique('id');
        const bystander = unique('id');
        const now = isolatedNow();
        for (const ip of ['198.51.100.1', '198.51.100.2', '2001:db8:9:9::/64']) await attempts.reserve(id, ip, 10, now, MONTH);
        await attempts.reserve(bystander, '198.51.100.1', 10, now, MONTH);
        assert.equal(await attempts.clearIdentifier(id), 3);
        for (const ip of ['198.51.100.1', '198.51.100.2', '2001:db8:9:9::/64']) assert.equal(await attempts.get(id, ip), null);
        assert.equal((await attempts.get(bystander, '198.51.100.1'))?.count, 1);
        assert.equal(await attempts.clearIdentifier(id), 0, 'nothing left to clear');
        assert.deepEqual(await attempts.reserve(id, '198.51.100.1', 10, now, MONTH), { allowed: true, count: 1 });
      });

      it('listAtLeast returns records at or above the count with lastAt after since, newest first, within the limit', async () => {
        const { attempts } = stores;
        const now = isolatedNow();
        const ids = [unique('list'), unique('list'), unique('list'), unique('list')];
        const fill = async (id: string, n: number, at: number) => {
          for (let i = 0; i < n; i++) await attempts.reserve(id, '192.0.2.9', 10, at, MONTH);
        };
        await fill(ids[0]!, 3, now + 10);
        await fill(ids[1]!, 5, now + 30);
        await fill(ids[2]!, 2, now + 40); // below the count
        await fill(ids[3]!, 4, now - 10); // too old
        const listed = await attempts.listAtLeast(3, now, 100);
        assert.deepEqual(listed, [
          { identifier: ids[1], ipKey: '192.0.2.9', count: 5, lastAt: now + 30 },
          { identifier: ids[0], ipKey: '192.0.2.9', count: 3, lastAt: now + 10 },
        ]);
        assert.deepEqual((await attempts.listAtLeast(3, now, 1)).map((r) => r.identifier), [ids[1]], 'the limit keeps the newest');
        assert.deepEqual(await attempts.listAtLeast(3, now + 30, 100), [], 'since is exclusive');
        for (const r of listed) assert.ok(typeof r.count === 'number' && typeof r.lastAt === 'number', 'numbers are decoded at the boundary');
      });

      it('200 concurrent reserve() calls with limit 10 allow exactly 10', async () => {
        // Threat: parallel password guesses overshooting the brute-force threshold (a check-then-increment race).
        const { attempts } = stores;
        const id = unique('race');
        const now = isolatedNow();
        const results = await Promise.all(Array.from({ length: 200 }, () => attempts.reserve(id, '203.0.113.50', 10, now, MONTH)));
        const allowed = results.filter((r) => r.allowed);
        assert.equal(allowed.length, 10, 'exactly the limit wins');
        assert.deepEqual(allowed.map((r) => r.count).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'each winner has its own slot');
        assert.ok(results.filter((r) => !r.allowed).every((r) => r.count === 10));
        assert.equal((await attempts.get(id, '203.0.113.50'))?.count, 10);
      });
    });

    describe('RateLimitStore', () => {
      const CAP = 3;
      const REFILL = 10_000;

      it('take spends a full bucket one token at a time, then refuses without spending', async () => {
        const { buckets } = stores;
        const key = unique('t:k');
        const now = isolatedNow();
        const results = [];
        for (let i = 0; i < 4; i++) results.push(await buckets.take(key, CAP, REFILL, now));
        assert.deepEqual(results, [
          { allowed: true, tokens: 2 },
          { allowed: true, tokens: 1 },
          { allowed: true, tokens: 0 },
          { allowed: false, tokens: 0 },
        ]);
        assert.deepEqual(await buckets.get(key), { key, tokens: 0, updatedAt: now });
        assert.equal(await buckets.get(unique('t:k')), null);
        assert.deepEqual(await buckets.take(unique('t:k'), CAP, REFILL, now), { allowed: true, tokens: 2 }, 'keys are independent');
      });

      it('refills one token per refillMs, fractionally, capped at capacity', async () => {
        const { buckets } = stores;
        const key = unique('t:k');
        const now = isolatedNow();
        for (let i = 0; i < CAP; i++) await buckets.take(key, CAP, REFILL, now);
        const half = await buckets.take(key, CAP, REFILL, now + REFILL / 2);
        assert.equal(half.allowed, false);
        assert.ok(Math.abs(half.tokens - 0.5) < 1e-9, `half a token after half the interval, got ${half.tokens}`);
        assert.equal((await buckets.get(key))?.updatedAt, now, 'a refused take writes nothing');
        assert.equal((await buckets.take(key, CAP, REFILL, now + REFILL - 1)).allowed, false, 'not a millisecond early');
        assert.deepEqual(await buckets.take(key, CAP, REFILL, now + REFILL), { allowed: true, tokens: 0 }, 'exactly one token after refillMs');
        assert.equal((await buckets.take(key, CAP, REFILL, now + REFILL)).allowed, false, 'and only one');
        const later = now + 1000 * REFILL;
        assert.deepEqual(await buckets.take(key, CAP, REFILL, later), { allowed: true, tokens: CAP - 1 }, 'a long pause refills to capacity, not beyond');
        assert.deepEqual(await buckets.get(key), { key, tokens: CAP - 1, updatedAt: later });
      });

      it('refund gives one token back, never above capacity, and ignores unknown keys', async () => {
        const { buckets } = stores;
        const key = unique('t:k');
        const now = isolatedNow();
        for (let i = 0; i < CAP; i++) await buckets.take(key, CAP, REFILL, now);
        await buckets.refund(key, CAP);
        assert.equal((await buckets.get(key))?.tokens, 1);
        assert.deepEqual(await buckets.take(key, CAP, REFILL, now), { allowed: true, tokens: 0 }, 'the refunded token can be spent');
        for (let i = 0; i < 5; i++) await buckets.refund(key, CAP);
        assert.equal((await buckets.get(key))?.tokens, CAP, 'refunds stop at capacity');
        const missing = unique('t:k');
        await buckets.refund(missing, CAP);
        assert.equal(await buckets.get(missing), null, 'refunding an unknown key creates nothing');
      });

      it('list returns the buckets under a prefix, newest first, within the limit; reset deletes one', async () => {
        const { buckets } = stores;
        const prefix = `${unique('lst')}:`;
        const now = isolatedNow();
        await buckets.take(`${prefix}198.51.100.1`, CAP, REFILL, now + 1);
        await buckets.take(`${prefix}2001:db8:1:2::/64`, CAP, REFILL, now + 3);
        await buckets.take(`${prefix}198.51.100.2`, CAP, REFILL, now + 2);
        await buckets.take(`${prefix.slice(0, -1)}x:198.51.100.3`, CAP, REFILL, now + 4); // a different prefix
        const listed = await buckets.list(prefix, 100);
        assert.deepEqual(
          listed.map((b) => b.key),
          [`${prefix}2001:db8:1:2::/64`, `${prefix}198.51.100.2`, `${prefix}198.51.100.1`],
        );
        assert.deepEqual(listed[0], { key: `${prefix}2001:db8:1:2::/64`, tokens: CAP - 1, updatedAt: now + 3 });
        assert.equal((await buckets.list(prefix, 2)).length, 2);
        assert.deepEqual(await buckets.list(`${unique('none')}:`, 10), []);

        assert.equal(await buckets.reset(`${prefix}198.51.100.1`), true);
        assert.equal(await buckets.reset(`${prefix}198.51.100.1`), false, 'a second reset finds nothing');
        assert.equal(await buckets.get(`${prefix}198.51.100.1`), null);
        assert.deepEqual(await buckets.take(`${prefix}198.51.100.1`, CAP, REFILL, now + 5), { allowed: true, tokens: CAP - 1 }, 'a reset bucket is full again');
      });

      it('150 concurrent take() calls on capacity 100 allow exactly 100', async () => {
        // Threat: racing requests spending more than an IP's allowance (lost updates on the bucket).
        const { buckets } = stores;
        const key = unique('t:race');
        const now = isolatedNow();
        const results = await Promise.all(Array.from({ length: 150 }, () => buckets.take(key, 100, 864_000, now)));
        assert.equal(results.filter((r) => r.allowed).length, 100);
        assert.deepEqual(
          results.filter((r) => r.allowed).map((r) => r.tokens).sort((a, b) => a - b),
          Array.from({ length: 100 }, (_, i) => i),
          'each winner spent a different token',
        );
        assert.equal((await buckets.get(key))?.tokens, 0);
      });
    });

    describe('OnceStore', () => {
      it('claim succeeds once per ttl, measured with the given now', async () => {
        const { once } = stores;
        const key = unique('once');
        const now = isolatedNow();
        const HOUR = 3_600_000;
        assert.equal(await once.claim(key, HOUR, now), true);
        assert.equal(await once.claim(key, HOUR, now), false);
        assert.equal(await once.claim(key, HOUR, now + HOUR - 1), false, 'still claimed just before the ttl ends');
        assert.equal(await once.claim(unique('once'), HOUR, now), true, 'keys are independent');
        assert.equal(await once.claim(key, HOUR, now + HOUR), true, 'claimable again once the ttl has passed');
        assert.equal(await once.claim(key, HOUR, now + HOUR + 1), false, 'and that claim starts a new ttl');
      });

      it('isHeld reports a live claim without claiming', async () => {
        const { once } = stores;
        const key = unique('held');
        const now = isolatedNow();
        assert.equal(await once.isHeld(key, now), false, 'never claimed');
        assert.equal(await once.isHeld(key, now), false, 'asking twice claims nothing');
        assert.equal(await once.claim(key, 60_000, now), true, 'isHeld did not claim');
        assert.equal(await once.isHeld(key, now + 59_999), true);
        assert.equal(await once.isHeld(key, now + 60_000), false, 'not after the ttl');
      });

      it('50 concurrent claim() calls: exactly one wins', async () => {
        // Threat: duplicate notifications (two block emails, two alerts) from racing requests.
        const { once } = stores;
        const key = unique('once-race');
        const now = isolatedNow();
        const results = await Promise.all(Array.from({ length: 50 }, () => once.claim(key, 60_000, now)));
        assert.equal(results.filter(Boolean).length, 1);
      });
    });
  });
}
