// Untrusted-IP lists: CIDR parsing, the range matcher (v4/v6 edges, nesting, 100k entries), the store contract on
// every backend, and reloading stored lists and operator files without a restart.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, renameSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIpv6, normalizeCidr, parseCidr, parseIp } from '../../src/protection/ip-lists/cidr.js';
import { buildRangeIndex } from '../../src/protection/ip-lists/range-index.js';
import { parseIpListText } from '../../src/protection/ip-lists/ip-list-text.js';
import { openIpReputation } from '../../src/protection/ip-lists/ip-reputation.js';
import { parseConfig } from '../../src/config/load-config.js';
import { isPortcullisError } from '../../src/domain/errors.js';
import { backends } from '../helpers/databases.js';
import type { StoreContext } from '../store/contract-fixtures.js';

const T0 = 1_700_000_000_000;

describe('CIDR parsing', () => {
  it('normalizes IPs and CIDRs to one canonical text', () => {
    const cases: [string, string | null][] = [
      ['1.2.3.4', '1.2.3.4/32'],
      ['10.1.2.3/8', '10.0.0.0/8'],
      ['0.0.0.0/0', '0.0.0.0/0'],
      ['2001:DB8::1', '2001:db8::1/128'],
      ['2001:0db8:0000:0000:0001:0000:0000:0001/64', '2001:db8::/64'],
      ['::ffff:1.2.3.0/120', '1.2.3.0/24'],
      ['::ffff:1.2.3.4', '1.2.3.4/32'],
      ['::/0', '::/0'],
      [' 192.168.0.0/16 ', '192.168.0.0/16'],
      ['1.2.3.4/33', null],
      ['::1/129', null],
      ['1.2.3', null],
      ['01.2.3.4', null],
      ['1.2.3.4/ 8', null],
      ['1.2.3.4/-1', null],
      ['fe80::1%eth0', null],
      ['example.com', null],
      ['', null],
    ];
    for (const [input, expected] of cases) assert.equal(normalizeCidr(input), expected, input);
    assert.equal(parseCidr('10.1.2.3/8')?.hostBitsSet, true);
    assert.equal(parseCidr('10.0.0.0/8')?.hostBitsSet, false);
  });

  it('prints IPv6 per RFC 5952', () => {
    const v6 = (text: string) => formatIpv6((parseIp(text) as { value: bigint }).value);
    assert.equal(v6('2001:db8:0:0:0:0:2:1'), '2001:db8::2:1');
    assert.equal(v6('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1', 'a single zero group is not shortened');
    assert.equal(v6('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1', 'the longest run is shortened');
    assert.equal(v6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', 'the first of equal runs is shortened');
    assert.equal(v6('::1'), '::1');
    assert.equal(v6('1::'), '1::');
  });

  it('reads IPv4-mapped and zoned addresses when looking up', () => {
    assert.deepEqual(parseIp('::ffff:10.0.0.1'), { family: 4, value: 0x0a000001 });
    assert.deepEqual(parseIp('fe80::1%eth0'), { family: 6, value: (0xfe80n << 112n) | 1n });
    assert.equal(parseIp('1.2.3.4/32'), null);
  });
});

describe('list text', () => {
  it('skips comments and blanks, keeps trailing comments as notes, dedupes, and reports bad lines by number', () => {
    const parsed = parseIpListText('# Tor exit nodes\n\n1.2.3.4  # relay a\r\n10.0.0.0/8 ; SBL123\n  \nnot-an-ip\n1.2.3.4\n2001:db8::/32\n10.1.2.3/16\n300.1.1.1 # typo\n');
    assert.deepEqual(parsed.entries, [
      { cidr: '1.2.3.4/32', note: 'relay a' },
      { cidr: '10.0.0.0/8', note: 'SBL123' },
      { cidr: '2001:db8::/32', note: null },
      { cidr: '10.1.0.0/16', note: null },
    ]);
    assert.deepEqual(parsed.invalid.map((l) => [l.line, l.text]), [[6, 'not-an-ip'], [10, '300.1.1.1']]);
    assert.deepEqual(parsed.widened, [{ line: 9, text: '10.1.2.3/16', cidr: '10.1.0.0/16' }]);
  });
});

describe('range matcher', () => {
  const index = buildRangeIndex([
    { cidr: '10.0.0.0/8', value: 'abuse' },
    { cidr: '10.1.0.0/16', value: 'tor' },
    { cidr: '10.1.2.3', value: 'single' },
    { cidr: '192.0.2.0/24', value: 'dc' },
    { cidr: '2001:db8::/32', value: 'dc6' },
    { cidr: '2001:db8:1::/48', value: 'tor6' },
    { cidr: '2a00::5', value: 'single6' },
  ]);
  const hit = (ip: string) => index.find(ip);

  it('matches IPv4 blocks exactly at their edges', () => {
    assert.equal(hit('9.255.255.255'), null);
    assert.deepEqual(hit('10.0.0.0'), { cidr: '10.0.0.0/8', value: 'abuse' });
    assert.deepEqual(hit('10.255.255.255'), { cidr: '10.0.0.0/8', value: 'abuse' });
    assert.equal(hit('11.0.0.0'), null);
    assert.equal(hit('192.0.1.255'), null);
    assert.equal(hit('192.0.2.255')?.value, 'dc');
    assert.equal(hit('192.0.3.0'), null);
  });

  it('returns the most specific block, and the enclosing one after a nested block ends', () => {
    assert.equal(hit('10.1.2.3')?.value, 'single');
    assert.equal(hit('10.1.2.4')?.value, 'tor');
    assert.equal(hit('10.1.255.255')?.value, 'tor');
    assert.equal(hit('10.2.0.0')?.value, 'abuse');
    assert.equal(hit('10.200.0.1')?.value, 'abuse');
    assert.equal(hit('10.0.255.255')?.value, 'abuse');
  });

  it('matches IPv6 blocks at their edges and keeps the families apart', () => {
    assert.equal(hit('2001:db7:ffff:ffff:ffff:ffff:ffff:ffff'), null);
    assert.equal(hit('2001:db8::')?.value, 'dc6');
    assert.equal(hit('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')?.value, 'dc6');
    assert.equal(hit('2001:db9::'), null);
    assert.equal(hit('2001:db8:1:abcd::1')?.value, 'tor6');
    assert.equal(hit('2001:db8:2::1')?.value, 'dc6');
    assert.equal(hit('2a00::5')?.value, 'single6');
    assert.equal(hit('2a00::6'), null);
    assert.equal(hit('::a00:1'), null, '::10.0.0.1 is an IPv6 address, not 10.0.0.1');
    assert.equal(hit('::ffff:10.0.0.1')?.value, 'abuse', 'IPv4-mapped IPv6 is the IPv4 address');
    assert.equal(hit('not an ip'), null);
  });

  it('agrees with a brute-force scan on random nested blocks', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const blocks = Array.from({ length: 2000 }, (_, i) => {
      const prefix = 8 + Math.floor(random() * 25);
      return { cidr: `${Math.floor(random() * 8) + 10}.${Math.floor(random() * 4)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}/${prefix}`, value: i };
    });
    const random6 = Array.from({ length: 500 }, (_, i) => ({ cidr: `2001:db8:${Math.floor(random() * 4).toString(16)}:${Math.floor(random() * 65536).toString(16)}::/${32 + Math.floor(random() * 50)}`, value: 10_000 + i }));
    const all = [...blocks, ...random6];
    const parsedBlocks = all.map((b) => ({ ...b, cidr: parseCidr(b.cidr)?.cidr as NonNullable<ReturnType<typeof parseCidr>>['cidr'] }));
    const sut = buildRangeIndex(all);
    const probes = [
      ...Array.from({ length: 3000 }, () => `${Math.floor(random() * 8) + 10}.${Math.floor(random() * 4)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`),
      ...Array.from({ length: 1000 }, () => `2001:db8:${Math.floor(random() * 4).toString(16)}:${Math.floor(random() * 65536).toString(16)}::${Math.floor(random() * 65536).toString(16)}`),
    ];
    for (const ip of probes) {
      const address = parseIp(ip) as NonNullable<ReturnType<typeof parseIp>>;
      const containing = parsedBlocks.filter((b) => b.cidr.family === address.family && b.cidr.start <= BigInt(address.value) && BigInt(address.value) <= b.cidr.end);
      const found = sut.find(ip);
      if (containing.length === 0) {
        assert.equal(found, null, ip);
        continue;
      }
      const narrowest = Math.max(...containing.map((b) => b.cidr.prefix));
      assert.ok(found, ip);
      assert.ok(containing.some((b) => b.cidr.prefix === narrowest && b.cidr.text === found.cidr && b.value === found.value), `${ip} → ${found.cidr}`);
    }
  });

  it('answers quickly with 100k entries (measured)', (t) => {
    // 60k IPv4 /24s (10.0.0.0 to 10.234.95.0) and 40k IPv6 /48s (2001:0:… to 2001:9:…), probed half inside, half outside.
    const entries = [
      ...Array.from({ length: 60_000 }, (_, k) => ({ cidr: `10.${k >> 8}.${k & 255}.0/24`, value: 'v4' })),
      ...Array.from({ length: 40_000 }, (_, k) => ({ cidr: `2001:${(k >> 12).toString(16)}:${((k & 4095) * 16).toString(16)}::/48`, value: 'v6' })),
    ];
    let started = performance.now();
    const big = buildRangeIndex(entries);
    const buildMs = performance.now() - started;
    const probes4 = Array.from({ length: 100_000 }, (_, i) => `${10 + (i % 2)}.${(i * 31) % 256}.${(i * 17) % 256}.${i % 256}`);
    const probes6 = Array.from({ length: 50_000 }, (_, i) => `2001:${(i % 20).toString(16)}:${((i * 7) & 0xffff).toString(16)}::${i.toString(16)}`);
    started = performance.now();
    let hits4 = 0;
    for (const ip of probes4) if (big.find(ip)) hits4 += 1;
    const v4PerSecond = Math.round(probes4.length / ((performance.now() - started) / 1000));
    started = performance.now();
    let hits6 = 0;
    for (const ip of probes6) if (big.find(ip)) hits6 += 1;
    const v6PerSecond = Math.round(probes6.length / ((performance.now() - started) / 1000));
    t.diagnostic(`100k CIDRs indexed in ${buildMs.toFixed(0)} ms; ${v4PerSecond} IPv4 and ${v6PerSecond} IPv6 lookups/s (${hits4} + ${hits6} hits)`);
    assert.ok(hits4 > 0 && hits6 > 0);
    assert.ok(v4PerSecond > 50_000 && v6PerSecond > 20_000, `${v4PerSecond} / ${v6PerSecond} lookups/s`);
  });
});

for (const backend of backends()) {
  describe(`IpListStore contract on ${backend.name}`, () => {
    let context: StoreContext;
    before(async () => {
      context = await backend.create();
    });
    after(async () => context.dispose());

    it('add keeps existing entries, counts only new ones, and bumps the revision', async () => {
      const lists = context.store.ipLists;
      const r0 = await lists.revision();
      assert.equal(await lists.add('tor', [{ cidr: '1.2.3.4/32', note: 'relay' }, { cidr: '2001:db8::/32', note: null }], T0), 2);
      const r1 = await lists.revision();
      assert.notEqual(r1, r0);
      assert.equal(await lists.add('tor', [{ cidr: '1.2.3.4/32', note: 'changed' }, { cidr: '5.6.7.0/24', note: null }], T0 + 1), 1);
      assert.deepEqual(await lists.list('tor'), [
        { list: 'tor', cidr: '1.2.3.4/32', note: 'relay', addedAt: T0 },
        { list: 'tor', cidr: '2001:db8::/32', note: null, addedAt: T0 },
        { list: 'tor', cidr: '5.6.7.0/24', note: null, addedAt: T0 + 1 },
      ]);
      assert.notEqual(await lists.revision(), r1);
      assert.equal(await lists.revision(), await lists.revision(), 'reads do not change the revision');
    });

    it('replace swaps a whole list atomically and leaves other lists alone', async () => {
      const lists = context.store.ipLists;
      await lists.add('abuse', [{ cidr: '9.9.9.0/24', note: null }], T0);
      const big = Array.from({ length: 2500 }, (_, i) => ({ cidr: `100.${i >> 8}.${i & 255}.0/24`, note: i === 0 ? 'first' : null }));
      assert.equal(await lists.replace('abuse', big, T0 + 5), 2500);
      const entries = await lists.list('abuse');
      assert.equal(entries.length, 2500);
      assert.ok(!entries.some((e) => e.cidr === '9.9.9.0/24'));
      assert.equal((await lists.list('tor')).length, 3);
      assert.equal(await lists.replace('abuse', [], T0 + 6), 0);
      assert.deepEqual(await lists.list('abuse'), []);
      assert.deepEqual(await lists.names(), ['abuse', 'tor'], 'an emptied list keeps its name');
      assert.deepEqual(await lists.summaries(), [
        { name: 'abuse', entries: 0, updatedAt: T0 + 6 },
        { name: 'tor', entries: 3, updatedAt: T0 + 1 },
      ]);
    });

    it('a replace that fails part-way leaves the old list in place', async () => {
      const lists = context.store.ipLists;
      await lists.replace('dc', [{ cidr: '8.8.8.0/24', note: null }], T0);
      // The second chunk of rows holds a NULL CIDR, which the NOT NULL constraint refuses after the first chunk went in.
      const broken = Array.from({ length: 1500 }, (_, i) => ({ cidr: i === 1200 ? (null as unknown as string) : `11.0.${i >> 8}.${i & 255}/32`, note: null }));
      await assert.rejects(async () => lists.replace('dc', broken, T0 + 1));
      assert.deepEqual((await lists.list('dc')).map((e) => e.cidr), ['8.8.8.0/24']);
    });

    it('remove reports whether the entry existed and only then bumps the revision', async () => {
      const lists = context.store.ipLists;
      const before = await lists.revision();
      assert.equal(await lists.remove('tor', '9.9.9.9/32', T0 + 10), false);
      assert.equal(await lists.remove('nope', '1.2.3.4/32', T0 + 10), false);
      assert.equal(await lists.revision(), before);
      assert.equal(await lists.remove('tor', '1.2.3.4/32', T0 + 10), true);
      assert.notEqual(await lists.revision(), before);
      assert.deepEqual((await lists.list('tor')).map((e) => e.cidr), ['2001:db8::/32', '5.6.7.0/24']);
      assert.deepEqual(await lists.list('unknown'), []);
      assert.ok((await lists.list()).every((e) => ['tor', 'dc'].includes(e.list)));
    });
  });
}

describe('IpReputation: stored lists plus operator files, reloaded without a restart', () => {
  const [sqlite] = backends();
  let context: StoreContext;
  let dir: string;
  before(async () => {
    context = await (sqlite as NonNullable<typeof sqlite>).create();
    dir = mkdtempSync(join(tmpdir(), 'pc-iplists-'));
  });
  after(async () => {
    await context.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('combines the store and files, and refresh() picks up imports and edits', async () => {
    const lists = context.store.ipLists;
    await lists.add('abuse', [{ cidr: '203.0.113.0/24', note: null }], T0);
    const torFile = join(dir, 'tor.txt');
    writeFileSync(torFile, '# tor exits\n198.51.100.7\n2001:db8:7::/48\n');
    const warnings: string[] = [];
    const reputation = await openIpReputation({ store: lists, files: [{ name: 'tor-exits', path: torFile }], pollIntervalMs: 0, onWarning: (m) => warnings.push(m) });
    try {
      assert.deepEqual(reputation.lookup('203.0.113.9'), { list: 'abuse', cidr: '203.0.113.0/24' });
      assert.deepEqual(reputation.lookup('198.51.100.7'), { list: 'tor-exits', cidr: '198.51.100.7/32' });
      assert.deepEqual(reputation.lookup('2001:db8:7::1'), { list: 'tor-exits', cidr: '2001:db8:7::/48' });
      assert.equal(reputation.lookup('8.8.8.8'), null);
      assert.equal(await reputation.refresh(), false, 'nothing changed');

      await lists.add('abuse', [{ cidr: '8.8.8.0/24', note: null }], T0 + 1);
      assert.equal(reputation.lookup('8.8.8.8'), null, 'lookups serve the last load until a refresh');
      assert.equal(await reputation.refresh(), true);
      assert.equal(reputation.lookup('8.8.8.8')?.list, 'abuse');

      // An edit that keeps the size and lands in the same mtime tick is still seen: the rename changes the inode.
      writeFileSync(`${torFile}.new`, '# tor exits\n198.51.100.8\n2001:db8:7::/48\nbogus line\n');
      renameSync(`${torFile}.new`, torFile);
      assert.equal(await reputation.refresh(), true);
      assert.equal(reputation.lookup('198.51.100.7'), null);
      assert.equal(reputation.lookup('198.51.100.8')?.list, 'tor-exits');
      assert.match(warnings.join('\n'), /line 4: "bogus line"/);

      // A file that disappears keeps serving its last good entries, with a warning.
      rmSync(torFile);
      await reputation.refresh();
      assert.equal(reputation.lookup('198.51.100.8')?.list, 'tor-exits');
      assert.match(warnings.join('\n'), /could not be read/);
      assert.equal(reputation.size(), 4);
    } finally {
      reputation.close();
    }
  });

  it('its own timer notices a changed file within the poll interval', async () => {
    const file = join(dir, 'dc.txt');
    writeFileSync(file, '192.0.2.0/24\n');
    const reputation = await openIpReputation({ store: context.store.ipLists, files: [{ name: 'datacenter', path: file }], pollIntervalMs: 25 });
    try {
      assert.equal(reputation.lookup('192.0.2.1')?.list, 'datacenter');
      assert.equal(reputation.lookup('100.64.0.1'), null);
      writeFileSync(file, '192.0.2.0/24\n100.64.0.0/10\n');
      utimesSync(file, new Date(), new Date(Date.now() + 5_000));
      const deadline = Date.now() + 5_000;
      while (reputation.lookup('100.64.0.1') === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(reputation.lookup('100.64.0.1')?.list, 'datacenter');
    } finally {
      reputation.close();
    }
  });
});

describe('ipLists configuration', () => {
  it('takes named files from the JSON config and refuses bad names', () => {
    const config = parseConfig({ ipLists: { files: [{ name: 'tor-exits', path: '/etc/portcullis/tor.txt' }], pollInterval: '10s' } });
    assert.deepEqual(config.ipLists, { files: [{ name: 'tor-exits', path: '/etc/portcullis/tor.txt' }], pollInterval: 10_000 });
    assert.equal(parseConfig({}).ipLists.pollInterval, 5_000);
    assert.throws(() => parseConfig({ ipLists: { files: [{ name: 'Tor Exits', path: '/x' }] } }), (e: unknown) => isPortcullisError(e) && /ipLists\.files\.0\.name/.test(e.detail ?? ''));
  });
});
