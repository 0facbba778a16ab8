// Known-answer tests of the PWDX offline index: real files in temp folders, built through the real importer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPwdxIndex } from '../../src/protection/breached/pwdx-builder.js';
import { openPwdxIndex } from '../../src/protection/breached/pwdx-index.js';
import { createIndexHolder } from '../../src/protection/breached/index-holder.js';
import { bucketTableBytes, choosePrefixBits, countClassOf, DEFAULT_KEY_BYTES, HEADER_BYTES, minCountOfClass } from '../../src/protection/breached/pwdx-format.js';

const sha1 = (text: string): string => createHash('sha1').update(text, 'utf8').digest('hex').toUpperCase();
const randomHashes = (n: number): string[] => {
  const bytes = randomBytes(20 * n);
  return Array.from({ length: n }, (_, i) => bytes.toString('hex', 20 * i, 20 * i + 20).toUpperCase());
};
const hibpText = (rows: [string, number][], eol = '\r\n'): string => rows.map(([h, c]) => `${h}:${c}${eol}`).join('');

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pc-pwdx-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('PWDX build and lookup', () => {
  it('finds every inserted hash with its count class and none of 100k absent ones', async () => {
    const hashes = randomHashes(100_000).sort();
    const rows = hashes.map((h, i): [string, number] => [h, (i * 7919) % 5_000_000 + 1]);
    writeFileSync(join(dir, 'known.txt'), hibpText(rows));
    const summary = await buildPwdxIndex({ input: join(dir, 'known.txt'), output: join(dir, 'known.pwdx') });
    assert.equal(summary.strategy, 'streamed');
    assert.equal(summary.format, 'hibp');
    assert.equal(summary.entries, 100_000);
    assert.ok(summary.fileBytes / summary.entries <= 7, `bytes per entry ${summary.fileBytes / summary.entries}`);
    const index = openPwdxIndex(join(dir, 'known.pwdx'));
    try {
      assert.equal(index.size, 100_000);
      for (const [hash, count] of rows) assert.deepEqual(index.lookup(hash), { countClass: countClassOf(count) }, hash);
      // Buffers and lowercase hex are the same hash.
      assert.ok(index.lookup(Buffer.from(rows[5]![0], 'hex')));
      assert.ok(index.lookup(rows[6]![0].toLowerCase()));
      const present = new Set(hashes);
      let falsePositives = 0;
      for (const absent of randomHashes(100_000)) if (!present.has(absent) && index.lookup(absent)) falsePositives++;
      assert.equal(falsePositives, 0);
    } finally {
      index.close();
    }
  });

  it('count classes are the bit length of the count (class k: seen 2^(k-1) to 2^k - 1 times)', () => {
    const cases: [number, number][] = [[0, 0], [1, 1], [2, 2], [3, 2], [4, 3], [7, 3], [8, 4], [1023, 10], [1024, 11], [100_000, 17], [52_256_179, 26], [2 ** 40, 41]];
    for (const [count, cls] of cases) assert.equal(countClassOf(count), cls, `count ${count}`);
    assert.equal(minCountOfClass(17), 65_536);
    assert.equal(minCountOfClass(0), 0);
  });

  it('keeps enough hash bits for a false-positive rate under 1e-9 at 2 billion entries', () => {
    const n = 2_000_000_000;
    const bits = choosePrefixBits(n) + 8 * DEFAULT_KEY_BYTES;
    assert.ok(bits >= 62, `${bits} bits`);
    assert.ok(n / 2 ** bits < 1e-9);
    // Small indexes keep fewer bits but the same bound, and a bucket table far smaller than the data.
    for (const size of [1, 1000, 49_233, 10_000_000, 1_000_000_000]) {
      const p = choosePrefixBits(size);
      assert.ok(size / 2 ** (p + 8 * DEFAULT_KEY_BYTES) < 1e-9, `n=${size}`);
      assert.ok(bucketTableBytes(p) <= Math.max(2048, size * 0.05), `table for n=${size}`);
    }
  });

  it('--min-count drops entries seen fewer times, and duplicates are merged keeping the highest count', async () => {
    const [a, b, c, d] = randomHashes(4).sort() as [string, string, string, string];
    writeFileSync(join(dir, 'min.txt'), hibpText([[a, 3], [b, 9], [b, 40], [c, 10], [d, 100_000]], '\n'));
    const summary = await buildPwdxIndex({ input: join(dir, 'min.txt'), output: join(dir, 'min.pwdx'), minCount: 10 });
    assert.equal(summary.entries, 3);
    assert.equal(summary.droppedBelowMinCount, 2);
    const index = openPwdxIndex(join(dir, 'min.pwdx'));
    assert.equal(index.lookup(a), null);
    assert.deepEqual(index.lookup(b), { countClass: countClassOf(40) });
    assert.deepEqual(index.lookup(c), { countClass: countClassOf(10) });
    assert.deepEqual(index.lookup(d), { countClass: 17 });
    assert.equal(index.header.minCount, 10);
    index.close();
    // Without --min-count the duplicate still collapses to one entry with the larger class.
    const all = await buildPwdxIndex({ input: join(dir, 'min.txt'), output: join(dir, 'all.pwdx') });
    assert.equal(all.entries, 4);
    assert.equal(all.duplicatesMerged, 1);
  });

  it('unsorted HIBP input goes through the external sort and a multi-pass k-way merge', async () => {
    const hashes = randomHashes(20_000);
    const rows = hashes.map((h, i): [string, number] => [h, (i % 50) + 1]);
    rows.push([hashes[0]!, 5000], [hashes[1]!, 1]); // duplicates spread over different runs
    writeFileSync(join(dir, 'unsorted.txt'), hibpText(rows));
    const summary = await buildPwdxIndex({ input: join(dir, 'unsorted.txt'), output: join(dir, 'unsorted.pwdx'), runSize: 500, maxFanIn: 3, minCount: 2 });
    assert.equal(summary.strategy, 'external-sort');
    const index = openPwdxIndex(join(dir, 'unsorted.pwdx'));
    try {
      assert.deepEqual(index.lookup(hashes[0]!), { countClass: countClassOf(5000) });
      for (const [hash, count] of rows.slice(1, 20_000)) assert.deepEqual(index.lookup(hash), count < 2 ? null : { countClass: countClassOf(count) }, hash);
      assert.equal(index.size, 20_000 - 400 + 1); // every 50th has count 1, but hashes[0] also appears with 5000
      for (const absent of randomHashes(20_000)) assert.equal(index.lookup(absent), null);
    } finally {
      index.close();
    }
    assert.deepEqual(readdirTemp(), [], 'run files are removed');
  });

  it('HIBP input that turns out unsorted late is rebuilt through the external sort', async () => {
    const sorted = randomHashes(5000).sort();
    const rows = sorted.map((h): [string, number] => [h, 2]);
    rows.push([sorted[10]!, 300]); // out of order on the last line
    writeFileSync(join(dir, 'late.txt'), hibpText(rows));
    const summary = await buildPwdxIndex({ input: join(dir, 'late.txt'), output: join(dir, 'late.pwdx') });
    assert.equal(summary.strategy, 'external-sort');
    assert.equal(summary.entries, 5000);
    const index = openPwdxIndex(join(dir, 'late.pwdx'));
    assert.deepEqual(index.lookup(sorted[10]!), { countClass: countClassOf(300) });
    assert.deepEqual(index.lookup(sorted[4999]!), { countClass: 2 });
    index.close();
  });

  it('a plain password list (CRLF, blank lines, duplicates, UTF-8) is hashed and external-sorted', async () => {
    const passwords = Array.from({ length: 3000 }, (_, i) => `pw-${i}-${'x'.repeat(i % 70)}`);
    passwords.push('pässwörd', 'password', 'password');
    writeFileSync(join(dir, 'plain.txt'), `${passwords.join('\r\n')}\r\n\r\n\n`);
    const summary = await buildPwdxIndex({ input: join(dir, 'plain.txt'), output: join(dir, 'plain.pwdx'), runSize: 100, maxFanIn: 4 });
    assert.equal(summary.format, 'plain');
    assert.equal(summary.strategy, 'external-sort');
    assert.equal(summary.entries, 3002);
    const index = openPwdxIndex(join(dir, 'plain.pwdx'));
    for (const p of passwords) assert.deepEqual(index.lookup(sha1(p)), { countClass: 0 }, p);
    assert.equal(index.lookup(sha1('pw-1-x ')), null);
    assert.equal(index.lookup(sha1('')), null);
    index.close();
  });

  it('a 6-byte key variant answers the same', async () => {
    const hashes = randomHashes(5000).sort();
    writeFileSync(join(dir, 'k6.txt'), hibpText(hashes.map((h): [string, number] => [h, 3])));
    await buildPwdxIndex({ input: join(dir, 'k6.txt'), output: join(dir, 'k6.pwdx'), keyBytes: 6 });
    const index = openPwdxIndex(join(dir, 'k6.pwdx'));
    assert.equal(index.header.keyBytes, 6);
    for (const h of hashes) assert.deepEqual(index.lookup(h), { countClass: 2 });
    for (const h of randomHashes(5000)) assert.equal(index.lookup(h), null);
    index.close();
  });

  it('refuses a line that is not SHA1:COUNT with its line number', async () => {
    writeFileSync(join(dir, 'bad.txt'), `${hibpText(randomHashes(150).sort().map((h): [string, number] => [h, 1]))}NOT-A-HASH:3\n`);
    await assert.rejects(buildPwdxIndex({ input: join(dir, 'bad.txt'), output: join(dir, 'bad.pwdx'), format: 'hibp' }), /line 151 is not an HIBP/);
    assert.deepEqual(readdirTemp(), []);
  });
});

/** Leftover temp outputs (*.tmp) and sort folders (.pwdx-sort-*) in the test folder. */
function readdirTemp(): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.startsWith('.pwdx-sort-'));
}

describe('a damaged index is refused at open, never answered from', () => {
  let rows: [string, number][];
  let good: Buffer;
  before(async () => {
    rows = randomHashes(30_000).sort().map((h, i): [string, number] => [h, i + 1]);
    writeFileSync(join(dir, 'dmg.txt'), hibpText(rows));
    await buildPwdxIndex({ input: join(dir, 'dmg.txt'), output: join(dir, 'dmg.pwdx') });
    good = readFileSync(join(dir, 'dmg.pwdx'));
  });

  const damaged = (name: string, change: (bytes: Buffer) => Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, change(Buffer.from(good)));
    return path;
  };
  const flip = (offset: number) => (bytes: Buffer): Buffer => {
    bytes[offset] = (bytes[offset] as number) ^ 0x10;
    return bytes;
  };
  const dataStart = (): number => HEADER_BYTES + bucketTableBytes(good.readUInt8(6));

  it('a truncated file', () => {
    const path = damaged('trunc.pwdx', (b) => b.subarray(0, b.length - 1));
    assert.throws(() => openPwdxIndex(path), /unusable: .*truncated.*portcullis breach import/);
    truncateSync(path, 40);
    assert.throws(() => openPwdxIndex(path), /shorter than the 64-byte header/);
    truncateSync(path, 0);
    assert.throws(() => openPwdxIndex(path), /truncated/);
  });

  it('trailing bytes after the index', () => {
    const path = damaged('trailing.pwdx', (b) => Buffer.concat([b, Buffer.from('x')]));
    assert.throws(() => openPwdxIndex(path), /trailing data/);
  });

  it('a flipped bit in the magic, the header, the bucket table, the data or the block checksums', () => {
    assert.throws(() => openPwdxIndex(damaged('magic.pwdx', flip(1))), /not a PWDX file/);
    for (const offset of [4, 6, 9, 20, 30, 62]) assert.throws(() => openPwdxIndex(damaged(`h${offset}.pwdx`, flip(offset))), /header checksum mismatch/, `header byte ${offset}`);
    assert.throws(() => openPwdxIndex(damaged('table.pwdx', flip(HEADER_BYTES + 40))), /bucket table checksum mismatch/);
    assert.throws(() => openPwdxIndex(damaged('crcs.pwdx', flip(good.length - 2))), /checksum mismatch/);
    for (const offset of [0, 1000, 100_000, 179_999]) {
      assert.throws(() => openPwdxIndex(damaged(`d${offset}.pwdx`, flip(dataStart() + offset))), /data checksum mismatch/, `data byte ${offset}`);
    }
  });

  it('in lazy mode a damaged data block fails the lookups that read it, and every other answer stays right', () => {
    const path = damaged('lazy.pwdx', flip(dataStart() + 70_000));
    const index = openPwdxIndex(path, { verify: 'lazy' });
    let failed = 0;
    for (const [hash, count] of rows) {
      try {
        assert.deepEqual(index.lookup(hash), { countClass: countClassOf(count) });
      } catch (error) {
        assert.match((error as Error).message, /data checksum mismatch in block 1/);
        failed++;
      }
    }
    assert.ok(failed > 0 && failed < rows.length / 2, `${failed} lookups failed`);
    index.close();
  });
});

describe('IndexHolder', () => {
  it('sees the new index after the file is atomically replaced, and keeps the old one when the new file is bad', async () => {
    let now = 0;
    const live = join(dir, 'live.pwdx');
    const first = randomHashes(100);
    const second = randomHashes(100);
    writeFileSync(join(dir, 'first.txt'), hibpText(first.sort().map((h): [string, number] => [h, 1])));
    writeFileSync(join(dir, 'second.txt'), hibpText(second.sort().map((h): [string, number] => [h, 2])));
    const holder = createIndexHolder(live, { checkIntervalMs: 1000, now: () => now });
    assert.equal(holder.current(), null, 'no file yet');
    await buildPwdxIndex({ input: join(dir, 'first.txt'), output: live });
    assert.equal(holder.current(), null, 'not checked again before the interval');
    now += 1000;
    assert.deepEqual(holder.current()?.lookup(first[0]!), { countClass: 1 });
    const old = holder.current();
    // The importer writes a temp file and renames it over the live path.
    await buildPwdxIndex({ input: join(dir, 'second.txt'), output: live });
    now += 1000;
    assert.equal(holder.current()?.lookup(first[0]!), null);
    assert.deepEqual(holder.current()?.lookup(second[0]!), { countClass: 2 });
    assert.throws(() => old?.lookup(first[0]!), /closed/, 'the replaced index is closed');
    // A corrupt replacement is refused; the previous index keeps answering.
    const bad = Buffer.from(readFileSync(live));
    bad[bad.length - 10] = (bad[bad.length - 10] as number) ^ 1;
    writeFileSync(`${live}.new`, bad);
    renameSync(`${live}.new`, live);
    assert.equal(holder.reload(), false);
    assert.match(String(holder.lastError?.message), /checksum mismatch/);
    assert.deepEqual(holder.current()?.lookup(second[0]!), { countClass: 2 });
    unlinkSync(live);
    assert.equal(holder.reload(), true);
    assert.equal(holder.current(), null, 'a deleted index is no longer used');
    holder.close();
  });

  it('fails loudly at start when the file is already corrupt', () => {
    const path = join(dir, 'corrupt-at-start.pwdx');
    writeFileSync(path, 'PWDX but not really');
    assert.throws(() => createIndexHolder(path), /unusable/);
  });
});
