// The PWDX block cache: a warm lookup does no read, a cold one exactly one; answers stay right under eviction and
// after an atomic swap; the byte budget holds. Real index files in a temp folder; reads counted on node:fs itself.
import { after, afterEach, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPwdxIndex } from '../../src/protection/breached/pwdx-builder.js';
import { openPwdxIndex, type PwdxIndex } from '../../src/protection/breached/pwdx-index.js';
import { createIndexHolder } from '../../src/protection/breached/index-holder.js';
import { BlockCache, DEFAULT_BLOCK_CACHE_BYTES } from '../../src/protection/breached/block-cache.js';
import { bucketTableBytes, countClassOf, HEADER_BYTES } from '../../src/protection/breached/pwdx-format.js';

const randomHashes = (n: number): string[] => {
  const bytes = randomBytes(20 * n);
  return Array.from({ length: n }, (_, i) => bytes.toString('hex', 20 * i, 20 * i + 20).toUpperCase());
};
const hibpText = (rows: [string, number][]): string => rows.map(([h, c]) => `${h}:${c}\r\n`).join('');

/** Counts the positioned reads the index makes (fs.readSync), through the real function. */
function countReads(): { readonly count: number; restore(): void } {
  const spy = mock.method(fs, 'readSync');
  syncBuiltinESMExports();
  return {
    get count() {
      return spy.mock.callCount();
    },
    restore() {
      spy.mock.restore();
      syncBuiltinESMExports();
    },
  };
}

let dir: string;
let rows: [string, number][];
let path: string;
const opened: PwdxIndex[] = [];
const open = (options: Parameters<typeof openPwdxIndex>[1] = {}): PwdxIndex => {
  const index = openPwdxIndex(path, options);
  opened.push(index);
  return index;
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pc-pwdx-cache-'));
  rows = randomHashes(100_000).sort().map((h, i): [string, number] => [h, (i % 1000) + 1]);
  writeFileSync(join(dir, 'base.txt'), hibpText(rows));
  path = join(dir, 'base.pwdx');
  await buildPwdxIndex({ input: join(dir, 'base.txt'), output: path });
});
afterEach(() => {
  for (const index of opened.splice(0)) index.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('PWDX block cache', () => {
  it('the first lookup of a bucket does exactly one positioned read, repeated lookups none', () => {
    const index = open();
    const [hash] = rows[500]!;
    const reads = countReads();
    try {
      assert.deepEqual(index.lookup(hash), { countClass: countClassOf(rows[500]![1]) });
      assert.equal(reads.count, 1, 'one read for a cold bucket');
      for (let i = 0; i < 100; i++) index.lookup(hash);
      // Another hash in the same bucket (the rows are sorted, so the neighbour usually shares it) and an absent one.
      index.lookup(rows[501]![0]);
      assert.equal(reads.count, index.cacheStats().misses, 'a read per miss and none per hit');
      assert.ok(reads.count <= 2);
    } finally {
      reads.restore();
    }
    const stats = index.cacheStats();
    assert.ok(stats.hits >= 100, `hits ${stats.hits}`);
    assert.equal(stats.budgetBytes, DEFAULT_BLOCK_CACHE_BYTES);
  });

  it('with the cache off (cacheBytes: 0) every lookup reads, and answers the same', () => {
    const cached = open();
    const uncached = open({ cacheBytes: 0 });
    const sample = rows.filter((_, i) => i % 97 === 0);
    const reads = countReads();
    try {
      for (const [hash] of sample) uncached.lookup(hash);
      assert.equal(reads.count, sample.length);
    } finally {
      reads.restore();
    }
    for (const [hash] of [...sample, ...sample]) assert.deepEqual(cached.lookup(hash), uncached.lookup(hash));
    assert.deepEqual(uncached.cacheStats(), { budgetBytes: 0, allocatedBytes: 0, cachedBytes: 0, buckets: 0, hits: 0, misses: 0, evictions: 0, notAdmitted: 0 });
  });

  it('a budget that holds the whole index caches every bucket once and never evicts', () => {
    const index = open();
    for (const [hash, count] of rows) assert.deepEqual(index.lookup(hash), { countClass: countClassOf(count) });
    const first = index.cacheStats();
    const dataBytes = index.size * (index.header.keyBytes + 1);
    assert.equal(first.cachedBytes, dataBytes, 'every bucket is cached');
    assert.equal(first.evictions, 0);
    assert.ok(first.allocatedBytes <= dataBytes * 1.25 + 64 * 1024, `a small index gets a small cache: ${first.allocatedBytes} B for ${dataBytes} B of data`);
    const reads = countReads();
    try {
      for (const [hash] of rows) index.lookup(hash);
      for (const hash of randomHashes(5000)) index.lookup(hash);
      assert.equal(reads.count, 0, 'a fully cached index does not touch the file');
    } finally {
      reads.restore();
    }
  });

  it('threat: a cache that outgrows its budget exhausts server memory. It never allocates more than the budget, and stays right while evicting', () => {
    // Threat: unbounded memory growth from lookups (each sign-in, sign-up or reset attempt costs a lookup).
    for (const budget of [48 * 1024, 200 * 1024]) {
      const index = open({ cacheBytes: budget });
      const absent = randomHashes(20_000);
      for (let i = 0; i < 60_000; i++) {
        const [hash, count] = rows[Math.floor(Math.random() * rows.length)]!;
        assert.deepEqual(index.lookup(hash), { countClass: countClassOf(count) });
        assert.equal(index.lookup(absent[i % absent.length]!), null);
        if (i % 1000 === 0) {
          const s = index.cacheStats();
          assert.ok(s.allocatedBytes <= budget, `allocated ${s.allocatedBytes} > budget ${budget}`);
          assert.ok(s.cachedBytes + 8 * s.buckets <= s.allocatedBytes, 'what is cached fits in what is allocated');
        }
      }
      const s = index.cacheStats();
      assert.ok(s.allocatedBytes <= budget && s.allocatedBytes > budget / 2, `allocated ${s.allocatedBytes} of ${budget}`);
      assert.ok(s.evictions > 0, 'the budget forced evictions');
      assert.ok(s.hits > 0);
    }
  });

  it('once full, lookups spread over more buckets than fit mostly go uncached instead of churning the cache', () => {
    // Threat: lookups spread over the whole index (an attacker cycling passwords) making every lookup slower than with no cache.
    const index = open({ cacheBytes: 64 * 1024 });
    const reference = open({ cacheBytes: 0 });
    for (let i = 0; i < 30_000; i++) {
      const [hash] = rows[Math.floor(Math.random() * rows.length)]!;
      assert.deepEqual(index.lookup(hash), reference.lookup(hash));
    }
    const s = index.cacheStats();
    assert.ok(s.notAdmitted > s.misses / 2, `${s.notAdmitted} of ${s.misses} misses not admitted`);
    assert.ok(s.evictions < s.misses / 4, `${s.evictions} evictions for ${s.misses} misses`);
    assert.ok(s.evictions > 0, 'buckets missed twice within the window still get in');
    assert.ok(s.hits > 0);
  });

  it('once full, a bucket missed twice in a short while is admitted', () => {
    const index = open({ cacheBytes: 64 * 1024 });
    // Fill the cache with the first buckets, then look up a bucket that is not cached, twice.
    for (let i = 0; i < 30_000 && index.cacheStats().notAdmitted === 0; i += 150) index.lookup(rows[i]![0]);
    const [late] = rows[rows.length - 1]!;
    const before = index.cacheStats();
    assert.ok(before.notAdmitted > 0, 'the cache is full');
    index.lookup(late);
    index.lookup(late);
    const reads = countReads();
    try {
      index.lookup(late);
      assert.equal(reads.count, 0, 'cached after its second miss');
    } finally {
      reads.restore();
    }
  });

  it('a bucket in steady use stays cached while a stream of others passes through (second chance)', () => {
    const index = open({ cacheBytes: 64 * 1024 });
    const [hot] = rows[12_345]!;
    index.lookup(hot);
    const reads = countReads();
    let hotReads = 0;
    try {
      for (let i = 0; i < 10_000; i++) {
        // Each cold bucket twice, so the doorkeeper admits it and the cache keeps turning over.
        const [cold] = rows[(i * 7919) % rows.length]!;
        index.lookup(cold);
        index.lookup(cold);
        const before = reads.count;
        index.lookup(hot);
        hotReads += reads.count - before;
      }
    } finally {
      reads.restore();
    }
    assert.ok(index.cacheStats().evictions > 1000, 'the cold stream cycled the cache many times');
    assert.equal(hotReads, 0, 'the hot bucket was never read again');
  });

  it('a budget too small for one bucket turns the cache off; a bad budget is refused', () => {
    const index = open({ cacheBytes: 100 });
    for (const [hash, count] of rows.slice(0, 500)) assert.deepEqual(index.lookup(hash), { countClass: countClassOf(count) });
    assert.equal(index.cacheStats().allocatedBytes, 0);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => new BlockCache(bad, { maxRangeBytes: 1000, dataBytes: 1e6, buckets: 1000 }), RangeError);
  });

  it('close() releases the cache, and a closed index refuses lookups', () => {
    const index = open();
    for (const [hash] of rows.slice(0, 2000)) index.lookup(hash);
    assert.ok(index.cacheStats().allocatedBytes > 0);
    index.close();
    assert.equal(index.cacheStats().allocatedBytes, 0);
    assert.equal(index.cacheStats().buckets, 0);
    assert.throws(() => index.lookup(rows[0]![0]), /closed/);
  });

  it('threat: a damaged block answered from the cache. In lazy mode a bad block fails every time, never caching a wrong answer', () => {
    // Threat: a corrupted index silently answering "not breached" once its bad bytes sit in memory.
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    const dataStart = HEADER_BYTES + bucketTableBytes(good.readUInt8(6));
    bad[dataStart + 70_000] = (bad[dataStart + 70_000] as number) ^ 0x10;
    const damaged = join(dir, 'damaged.pwdx');
    writeFileSync(damaged, bad);
    const index = openPwdxIndex(damaged, { verify: 'lazy' });
    opened.push(index);
    const failures: number[] = [];
    for (let pass = 0; pass < 2; pass++) {
      let failed = 0;
      for (const [hash, count] of rows) {
        try {
          assert.deepEqual(index.lookup(hash), { countClass: countClassOf(count) });
        } catch (error) {
          assert.match((error as Error).message, /data checksum mismatch in block 1/);
          failed++;
        }
      }
      failures.push(failed);
    }
    assert.ok(failures[0]! > 0);
    assert.equal(failures[1], failures[0], 'the same lookups fail on the second pass: nothing from the bad block was cached');
  });
});

describe('block cache and index replacement', () => {
  it('threat: a stale cache answering from the replaced index. After an atomic swap every answer comes from the new file', async () => {
    // Threat: a freshly imported breach list (new leaks) being ignored because old answers are still cached.
    let now = 0;
    const live = join(dir, 'live.pwdx');
    const first = rows.slice(0, 50_000);
    // Same hashes (so the same buckets) with different count classes, minus every 10th: the same entry layout,
    // so a cache keyed by bucket or file offset alone would answer from the old file.
    const second = first.filter((_, i) => i % 10 !== 0).map(([h, c]): [string, number] => [h, c * 4096]);
    writeFileSync(join(dir, 'first.txt'), hibpText(first));
    writeFileSync(join(dir, 'second.txt'), hibpText(second));
    await buildPwdxIndex({ input: join(dir, 'first.txt'), output: live });
    const holder = createIndexHolder(live, { checkIntervalMs: 1000, now: () => now });
    try {
      const old = holder.current()!;
      for (const [hash, count] of first) assert.deepEqual(old.lookup(hash), { countClass: countClassOf(count) });
      assert.ok(old.cacheStats().buckets > 100, 'the old index has a warm cache');

      await buildPwdxIndex({ input: join(dir, 'second.txt'), output: live });
      now += 1000;
      const fresh = holder.current()!;
      assert.notEqual(fresh, old);
      assert.equal(old.cacheStats().allocatedBytes, 0, 'the replaced index released its cache');
      for (const [i, [hash, count]] of first.entries()) {
        assert.deepEqual(fresh.lookup(hash), i % 10 === 0 ? null : { countClass: countClassOf(count * 4096) }, hash);
      }
      // Warm lookups on the new index agree with a fresh uncached reader of the same file.
      const reference = openPwdxIndex(live, { cacheBytes: 0 });
      try {
        for (const [hash] of first) assert.deepEqual(holder.current()!.lookup(hash), reference.lookup(hash));
      } finally {
        reference.close();
      }
      assert.ok(fresh.cacheStats().hits > 0);
    } finally {
      holder.close();
    }
  });
});
