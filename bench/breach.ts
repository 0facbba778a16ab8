// Benchmark 5, `npm run bench:breach` (also part of `npm run bench`): the PWDX index at 10 million synthetic hashes
// (300k with --quick).
// Each figure comes with a ratio to a baseline measured in the same run, since this machine is shared and noisy:
// import vs just reading and splitting the same file; lookups vs an in-memory Set<string> of the same keys.
// Lookups run with the index's default block cache (what the server uses) and, for comparison, with it off.
import { randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildPwdxIndex } from '../src/protection/breached/pwdx-builder.js';
import { openPwdxIndex, type OpenPwdxOptions, type PwdxIndex } from '../src/protection/breached/pwdx-index.js';
import { DEFAULT_BLOCK_CACHE_BYTES, type BlockCacheStats } from '../src/protection/breached/block-cache.js';
import { bucketTableBytes, blockCount, choosePrefixBits, DEFAULT_BLOCK_BYTES, DEFAULT_KEY_BYTES, expectedFileBytes } from '../src/protection/breached/pwdx-format.js';
import { newResult, ratioFigure, writeResult, type BenchResult } from './lib/report.js';

// Set per run by runBreachBench (the quick run uses a small index); the environment can override both.
let ENTRIES = 10_000_000;
let QUERIES = 500_000;
const BARS = { lookupsPerSec: 300_000, bytesPerEntry: 7, linesPerSec: 1_000_000 };
const HEX = Buffer.from('0123456789ABCDEF');

/** Writes `ENTRIES` random SHA-1s as sorted HIBP `SHA1:COUNT` lines; returns the 20-byte hashes in order. */
function writeSyntheticHibp(path: string): Buffer {
  const keys = new BigUint64Array(ENTRIES);
  randomFillSync(new Uint8Array(keys.buffer));
  keys.sort(); // the 64-bit prefix, as the numeric value of the little-endian words
  const words = new Uint32Array(keys.buffer);
  const hashes = randomBytes(20 * ENTRIES);
  const fd = openSync(path, 'w');
  const out = Buffer.alloc(4 * 1024 * 1024);
  let used = 0;
  for (let i = 0; i < ENTRIES; i++) {
    hashes.writeUInt32BE(words[2 * i + 1] as number, 20 * i);
    hashes.writeUInt32BE(words[2 * i] as number, 20 * i + 4);
    for (let b = 0; b < 20; b++) {
      const v = hashes[20 * i + b] as number;
      out[used++] = HEX[v >> 4] as number;
      out[used++] = HEX[v & 15] as number;
    }
    // A heavy-tailed count, like real breach data: most hashes seen a few times, some millions.
    used += out.write(`:${1 + Math.floor(2 ** (Math.random() * Math.random() * 24))}\r\n`, used, 'latin1');
    if (used > out.length - 100) {
      writeSync(fd, out, 0, used);
      used = 0;
    }
  }
  writeSync(fd, out, 0, used);
  closeSync(fd);
  return hashes;
}

/** Baseline: read the file in the same chunk size and split it into lines, doing nothing with them. */
function readAndSplit(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(4 * 1024 * 1024);
  let lines = 0;
  let carry = '';
  for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
    const parts = (carry + buf.toString('latin1', 0, n)).split('\n');
    carry = parts.pop() ?? '';
    lines += parts.length;
  }
  closeSync(fd);
  return lines + (carry ? 1 : 0);
}

interface Pass {
  perSec: number;
  p50us: number;
  p99us: number;
}

function timeLookups(lookup: (i: number) => unknown, count: number, withLatency: boolean): Pass {
  const latencies = withLatency ? new Float64Array(count) : null;
  const start = performance.now();
  if (latencies) {
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      lookup(i);
      latencies[i] = performance.now() - t;
    }
  } else {
    for (let i = 0; i < count; i++) lookup(i);
  }
  const perSec = count / ((performance.now() - start) / 1000);
  if (!latencies) return { perSec, p50us: NaN, p99us: NaN };
  latencies.sort();
  return { perSec, p50us: (latencies[Math.floor(count * 0.5)] as number) * 1000, p99us: (latencies[Math.floor(count * 0.99)] as number) * 1000 };
}

interface Measured {
  cold: Pass;
  warm: Pass;
  /** Share of lookups answered from the block cache in the first pass and in the warm passes. */
  coldCacheHits: number;
  warmCacheHits: number;
  cache: BlockCacheStats;
}

/** First pass right after open (with latencies), then a throughput pass and a latency pass on warm pages (and cache). */
function measureIndex(path: string, queries: Buffer[], expectHit: boolean, options: OpenPwdxOptions = {}): Measured {
  const index: PwdxIndex = openPwdxIndex(path, options);
  const check = (i: number): void => {
    if ((index.lookup(queries[i] as Buffer) !== null) !== expectHit) throw new Error(`wrong answer for query ${i}`);
  };
  const share = (a: BlockCacheStats, b: BlockCacheStats): number => (b.hits - a.hits) / Math.max(1, b.hits - a.hits + b.misses - a.misses);
  const s0 = index.cacheStats();
  const cold = timeLookups(check, queries.length, true);
  const s1 = index.cacheStats();
  const warmRate = timeLookups(check, queries.length, false);
  const warmLatency = timeLookups(check, queries.length, true);
  const s2 = index.cacheStats();
  index.close();
  return { cold, warm: { perSec: warmRate.perSec, p50us: warmLatency.p50us, p99us: warmLatency.p99us }, coldCacheHits: share(s0, s1), warmCacheHits: share(s1, s2), cache: s2 };
}

function sampleQueries(hashes: Buffer): { hits: Buffer[]; misses: Buffer[]; hitHex: string[]; missHex: string[] } {
  const hits: Buffer[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const at = Math.floor(Math.random() * ENTRIES);
    hits.push(Buffer.from(hashes.subarray(20 * at, 20 * at + 20)));
  }
  const misses = Array.from({ length: QUERIES }, () => randomBytes(20));
  return { hits, misses, hitHex: hits.map((b) => b.toString('hex').toUpperCase()), missHex: misses.map((b) => b.toString('hex').toUpperCase()) };
}

const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(1));
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

export async function runBreachBench(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const quick = options.quick ?? false;
  ENTRIES = Number(process.env.BENCH_BREACH_ENTRIES ?? (quick ? 300_000 : 10_000_000));
  QUERIES = Number(process.env.BENCH_BREACH_QUERIES ?? (quick ? 50_000 : 500_000));
  const result = newResult('breach', '5. Breached-password index (PWDX) lookups', quick, { entries: ENTRIES, queries: QUERIES, bars: BARS });
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'pc-bench-breach-'));
  try {
    const input = join(dir, 'synthetic-hibp.txt');
    const output = join(dir, 'bench.pwdx');
    console.log(`\nBreached-password index (PWDX): ${fmt(ENTRIES)} synthetic SHA-1s, ${fmt(QUERIES)} queries per pass\n`);
    const hashes = writeSyntheticHibp(input);

    let t = performance.now();
    const baselineLines = readAndSplit(input);
    const baselineRate = baselineLines / ((performance.now() - t) / 1000);
    const build = await buildPwdxIndex({ input, output });
    const buildRate = build.lines / build.seconds;
    const bytesPerEntry = build.fileBytes / build.entries;
    t = performance.now();
    openPwdxIndex(output).close();
    const openMs = performance.now() - t;

    const q = sampleQueries(hashes);
    const hit = measureIndex(output, q.hits, true);
    const miss = measureIndex(output, q.misses, false);
    const hitNoCache = measureIndex(output, q.hits, true, { cacheBytes: 0 });
    const missNoCache = measureIndex(output, q.misses, false, { cacheBytes: 0 });

    // Baseline: the same keys as hex strings in a Set, looked up with the same queries (second pass, warm).
    const set = new Set<string>();
    for (let i = 0; i < ENTRIES; i++) set.add(hashes.toString('hex', 20 * i, 20 * i + 20).toUpperCase());
    const setHas = (list: string[], expect: boolean) => (i: number): void => {
      if (set.has(list[i] as string) !== expect) throw new Error('set baseline answered wrong');
    };
    timeLookups(setHas(q.hitHex, true), QUERIES, false);
    const setHit = timeLookups(setHas(q.hitHex, true), QUERIES, false).perSec;
    timeLookups(setHas(q.missHex, false), QUERIES, false);
    const setMiss = timeLookups(setHas(q.missHex, false), QUERIES, false).perSec;
    set.clear();

    // The I/O floor: one positioned read of an average bucket's size at random offsets, no search.
    const readLen = Math.round((build.entries / 2 ** build.prefixBits) * (DEFAULT_KEY_BYTES + 1));
    const fd = openSync(output, 'r');
    const scratch = Buffer.alloc(readLen);
    const offsets = Float64Array.from({ length: QUERIES }, () => Math.floor(Math.random() * (build.fileBytes - readLen)));
    timeLookups((i) => readSync(fd, scratch, 0, readLen, offsets[i] as number), QUERIES, false);
    const rawRead = timeLookups((i) => readSync(fd, scratch, 0, readLen, offsets[i] as number), QUERIES, false).perSec;
    closeSync(fd);

    const row = (name: string, value: string, ratio: string): void => console.log(`${name.padEnd(44)}${value.padStart(16)}   ${ratio}`);
    console.log('figure'.padEnd(44) + 'value'.padStart(16) + '   ratio to baseline');
    row('read + split lines (baseline)', `${fmt(baselineRate)} lines/s`, '1.00');
    row(`import, ${build.strategy}`, `${fmt(buildRate)} lines/s`, `${(buildRate / baselineRate).toFixed(2)} of read+split`);
    row('file size', `${bytesPerEntry.toFixed(3)} B/entry`, `${(build.fileBytes / 1e6).toFixed(1)} MB, ${build.prefixBits}-bit buckets`);
    row('open (checks header, tables, all data CRCs)', `${openMs.toFixed(0)} ms`, '');
    row('Set<string>.has, hit (baseline)', `${fmt(setHit)} /s`, '1.00');
    row('Set<string>.has, miss (baseline)', `${fmt(setMiss)} /s`, '1.00');
    row(`fs.readSync of ${readLen} B alone (I/O floor)`, `${fmt(rawRead)} /s`, `${(rawRead / setHit).toFixed(3)} of Set hit`);
    const pct = (x: number): string => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;
    for (const [name, m, off, base] of [['hit', hit, hitNoCache, setHit], ['miss', miss, missNoCache, setMiss]] as const) {
      const ratios = (p: Pass): string => `${(p.perSec / base).toFixed(3)} of Set, ${(p.perSec / rawRead).toFixed(2)} of readSync; p50 ${p.p50us.toFixed(1)} µs, p99 ${p.p99us.toFixed(1)} µs`;
      row(`lookup ${name}, cold-ish (1st pass after open)`, `${fmt(m.cold.perSec)} /s`, `${ratios(m.cold)}; ${pct(m.coldCacheHits)} from cache`);
      row(`lookup ${name}, warm`, `${fmt(m.warm.perSec)} /s`, `${ratios(m.warm)}; ${pct(m.warmCacheHits)} from cache`);
      row(`lookup ${name}, warm, block cache off`, `${fmt(off.warm.perSec)} /s`, ratios(off.warm));
    }
    const dataBytes = build.entries * (DEFAULT_KEY_BYTES + 1);
    console.log(
      `Block cache: budget ${(DEFAULT_BLOCK_CACHE_BYTES / 2 ** 20).toFixed(0)} MiB (default), ${(hit.cache.allocatedBytes / 2 ** 20).toFixed(1)} MiB allocated, ` +
        `holding ${pct(hit.cache.cachedBytes / dataBytes)} of the ${(dataBytes / 1e6).toFixed(1)} MB of data; the queries are spread evenly over all buckets, so it answers about that share of warm lookups (a little more, as it keeps the buckets queried most).`,
    );

    const n = 2_000_000_000;
    const p = choosePrefixBits(n);
    const size = expectedFileBytes({ prefixBits: p, keyBytes: DEFAULT_KEY_BYTES, entryCount: n, blockBytes: DEFAULT_BLOCK_BYTES });
    const memory = bucketTableBytes(p) + 4 * blockCount(n * (DEFAULT_KEY_BYTES + 1), DEFAULT_BLOCK_BYTES);
    const bits = p + 8 * DEFAULT_KEY_BYTES;
    console.log(
      `\nAt 2 billion entries: file ${(size / 1e9).toFixed(2)} GB (${(size / n).toFixed(3)} B/entry), ${(memory / 2 ** 20).toFixed(1)} MiB in memory ` +
        `(bucket table + block checksums), ${bits} hash bits kept, false-positive rate ${(n / 2 ** bits).toExponential(1)} per lookup, ~${Math.round((n / 2 ** p) * 6)} B read per lookup; ` +
        `the default block cache then holds ${pct(DEFAULT_BLOCK_CACHE_BYTES / (n * (DEFAULT_KEY_BYTES + 1)))} of the data, so uniform random lookups run at about the block-cache-off rate, and repeated ones at the cached rate.`,
    );
    const warmWorst = Math.min(hit.warm.perSec, miss.warm.perSec);
    const lookupNote = (p: Pass, raw: number) => `p50 ${p.p50us.toFixed(1)} µs, p99 ${p.p99us.toFixed(1)} µs; ${(p.perSec / raw).toFixed(2)} of a bare readSync of ${readLen} B (${fmt(raw)}/s)`;
    result.figures.push(
      { name: 'read + split lines (baseline)', value: baselineRate, unit: 'lines/s' },
      { ...ratioFigure(`import (${build.strategy})`, buildRate, 'lines/s', { name: 'read + split', value: baselineRate }), target: `>= ${fmt(BARS.linesPerSec)} lines/s`, met: buildRate >= BARS.linesPerSec },
      { name: 'file size', value: bytesPerEntry, unit: 'B/entry', target: `<= ${BARS.bytesPerEntry} B/entry`, met: bytesPerEntry <= BARS.bytesPerEntry, note: `${(build.fileBytes / 1e6).toFixed(1)} MB for ${fmt(build.entries)} entries, ${build.prefixBits}-bit buckets` },
      { name: 'Set<string>.has, hit (baseline)', value: setHit, unit: 'lookups/s' },
      { ...ratioFigure('lookup hit, warm', hit.warm.perSec, 'lookups/s', { name: 'Set hit', value: setHit }), target: `>= ${fmt(BARS.lookupsPerSec)}/s`, met: hit.warm.perSec >= BARS.lookupsPerSec, note: lookupNote(hit.warm, rawRead) },
      { name: 'Set<string>.has, miss (baseline)', value: setMiss, unit: 'lookups/s' },
      { ...ratioFigure('lookup miss, warm', miss.warm.perSec, 'lookups/s', { name: 'Set miss', value: setMiss }), target: `>= ${fmt(BARS.lookupsPerSec)}/s`, met: miss.warm.perSec >= BARS.lookupsPerSec, note: lookupNote(miss.warm, rawRead) },
      { ...ratioFigure('lookup hit, warm, block cache off', hitNoCache.warm.perSec, 'lookups/s', { name: 'Set hit', value: setHit }), note: lookupNote(hitNoCache.warm, rawRead) },
      { ...ratioFigure('lookup miss, warm, block cache off', missNoCache.warm.perSec, 'lookups/s', { name: 'Set miss', value: setMiss }), note: lookupNote(missNoCache.warm, rawRead) },
    );
    result.details = {
      build: { ...build, linesPerSec: buildRate, openMs },
      lookups: { hit, miss, hitNoCache, missNoCache },
      baselines: { readSplitLinesPerSec: baselineRate, setHit, setMiss, readSyncPerSec: rawRead, readSyncBytes: readLen },
      extrapolation2Billion: { fileBytes: size, memoryBytes: memory, hashBits: bits, falsePositiveRate: n / 2 ** bits },
    };
    console.log(`\nBars: warm lookups ≥ ${fmt(BARS.lookupsPerSec)}/s: ${verdict(warmWorst >= BARS.lookupsPerSec)} (${fmt(warmWorst)}/s)` +
      `;  ≤ ${BARS.bytesPerEntry} B/entry: ${verdict(bytesPerEntry <= BARS.bytesPerEntry)} (${bytesPerEntry.toFixed(3)})` +
      `;  import ≥ ${fmt(BARS.linesPerSec)} lines/s: ${verdict(buildRate >= BARS.linesPerSec)} (${fmt(buildRate)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  result.seconds = Math.round((performance.now() - t0) / 100) / 10;
  console.log(`  results: ${writeResult(result)}`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runBreachBench({ quick: process.argv.includes('--quick') });
