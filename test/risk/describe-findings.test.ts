// Findings as sentences (from real assessor output and hand-built evidence), and browser/OS families from real user agents.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeFinding, describeFired } from '../../src/protection/risk/describe-findings.js';
import { assessImpossibleTravel, assessNewCountry, assessNewDevice, assessUntrustedIp } from '../../src/protection/risk/assessors.js';
import { describeFamily, deviceFamily, type DeviceFamily } from '../../src/protection/risk/device-family.js';
import type { Finding } from '../../src/protection/risk/risk-types.js';

const NOW = 1_700_000_000_000;
const MIN = 60_000;
const DAY = 86_400_000;

const LONDON = { latitude: 51.5081, longitude: -0.1278, accuracyKm: null, hasCity: true, label: 'London, United Kingdom', ip: '81.2.69.142' };
const SYDNEY = { latitude: -33.8784, longitude: 151.1949, accuracyKm: null, hasCity: true, label: 'Sydney, Australia', ip: '1.128.0.1' };

const travel = (evidence: Finding['evidence']): Finding => ({ code: 'impossible_travel', fired: true, confidence: 'high', evidence });

describe('describeFinding: impossible travel', () => {
  it('London → Sydney in 10 min, from the assessor', () => {
    const finding = assessImpossibleTravel({ previous: { ...LONDON, at: NOW - 10 * MIN }, current: SYDNEY, maxSpeedKmh: 1000 }, NOW);
    assert.equal(finding.fired, true);
    const text = describeFinding(finding);
    const match = /^Impossible travel: (.+) → (.+), ([\d,]+) km in (.+)$/.exec(text);
    assert.ok(match, `sentence shape: ${text}`);
    assert.equal(match[1], 'London, United Kingdom');
    assert.equal(match[2], 'Sydney, Australia');
    assert.match(match[3]!, /^\d{1,3}(,\d{3})+$/, 'thousands are grouped with commas');
    const km = Number(match[3]!.replaceAll(',', ''));
    assert.ok(Math.abs(km - 16_990) <= 169.9, `${km} km is within 1% of 16,990 km`);
    assert.equal(match[4], '10 min');
  });

  const cases: { name: string; evidence: Finding['evidence']; text: string }[] = [
    { name: 'km rounded and grouped', evidence: { from: 'London, United Kingdom', to: 'New York, United States', distance_km: 5570.4, elapsed_min: 45 }, text: 'Impossible travel: London, United Kingdom → New York, United States, 5,570 km in 45 min' },
    { name: 'short distance', evidence: { from: 'London, United Kingdom', to: 'Paris, France', distance_km: 344, elapsed_min: 10 }, text: 'Impossible travel: London, United Kingdom → Paris, France, 344 km in 10 min' },
    { name: 'unknown places', evidence: { from: null, to: null, distance_km: 16994, elapsed_min: 10 }, text: 'Impossible travel: an earlier location → this location, 16,994 km in 10 min' },
    { name: 'same instant', evidence: { from: 'A', to: 'B', distance_km: 1000, elapsed_min: 0 }, text: 'Impossible travel: A → B, 1,000 km in under a minute' },
    { name: 'one minute', evidence: { from: 'A', to: 'B', distance_km: 1000, elapsed_min: 1 }, text: 'Impossible travel: A → B, 1,000 km in 1 min' },
    { name: 'just under two hours', evidence: { from: 'A', to: 'B', distance_km: 1000, elapsed_min: 119 }, text: 'Impossible travel: A → B, 1,000 km in 119 min' },
    { name: 'two hours', evidence: { from: 'A', to: 'B', distance_km: 1000, elapsed_min: 120 }, text: 'Impossible travel: A → B, 1,000 km in 2 h' },
    { name: 'a day', evidence: { from: 'A', to: 'B', distance_km: 20000, elapsed_min: 1440 }, text: 'Impossible travel: A → B, 20,000 km in 24 h' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(describeFinding(travel(c.evidence)), c.text));
  }
});

describe('describeFinding: new device', () => {
  const facts = { cookiePresent: false, knownDeviceCount: 2, rememberForMs: 30 * DAY, known: null };
  const cases: { name: string; finding: Finding; text: string }[] = [
    { name: 'Chrome on Windows', finding: assessNewDevice({ ...facts, current: { browser: 'Chrome', os: 'Windows' } }, NOW), text: 'New device: Chrome on Windows' },
    { name: 'unknown browser and OS', finding: assessNewDevice({ ...facts, current: { browser: null, os: null } }, NOW), text: 'New device: Unknown browser' },
    { name: 'unknown browser, known OS', finding: assessNewDevice({ ...facts, current: { browser: null, os: 'Linux' } }, NOW), text: 'New device: Unknown browser on Linux' },
    { name: 'known browser, unknown OS', finding: assessNewDevice({ ...facts, current: { browser: 'Firefox', os: null } }, NOW), text: 'New device: Firefox' },
    {
      name: 'cookie reused from another browser',
      finding: assessNewDevice({ ...facts, cookiePresent: true, known: { browser: 'Chrome', os: 'Windows', lastSeenAt: NOW - DAY }, current: { browser: 'Firefox', os: 'Linux' } }, NOW),
      text: 'Device cookie reused from another browser: Firefox on Linux (remembered as Chrome on Windows)',
    },
    {
      name: 'cookie reused, remembered family unknown',
      finding: assessNewDevice({ ...facts, cookiePresent: true, known: { browser: null, os: null, lastSeenAt: NOW - DAY }, current: { browser: 'Edge', os: 'Windows' } }, NOW),
      text: 'Device cookie reused from another browser: Edge on Windows (remembered as unknown on unknown)',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(c.finding.fired, true);
      assert.equal(describeFinding(c.finding), c.text);
    });
  }

  it('family_changed says the cookie was reused; other reasons do not', () => {
    const changed = assessNewDevice({ ...facts, cookiePresent: true, known: { browser: 'Chrome', os: 'Windows', lastSeenAt: NOW }, current: { browser: 'Chrome', os: 'Mac OS' } }, NOW);
    const forgotten = assessNewDevice({ ...facts, cookiePresent: true, known: { browser: 'Chrome', os: 'Windows', lastSeenAt: NOW - 60 * DAY }, current: { browser: 'Chrome', os: 'Mac OS' } }, NOW);
    assert.equal(changed.evidence.reason, 'family_changed');
    assert.equal(forgotten.evidence.reason, 'forgotten_after_window');
    assert.match(describeFinding(changed), /cookie reused/);
    assert.match(describeFinding(changed), /remembered as Chrome on Windows/);
    assert.doesNotMatch(describeFinding(forgotten), /reused/);
    assert.equal(describeFinding(forgotten), 'New device: Chrome on Mac OS');
  });
});

describe('describeFinding: untrusted IP', () => {
  const cases: { list: string; cidr: string; text: string }[] = [
    { list: 'tor-exits', cidr: '185.220.101.0/24', text: 'Untrusted IP: listed in "tor-exits" (185.220.101.0/24)' },
    { list: 'datacenters', cidr: '2a01:4f8::/32', text: 'Untrusted IP: listed in "datacenters" (2a01:4f8::/32)' },
  ];
  for (const c of cases) {
    it(`${c.list} ${c.cidr}`, () => {
      const text = describeFinding(assessUntrustedIp({ match: { list: c.list, cidr: c.cidr } }, NOW));
      assert.equal(text, c.text);
      assert.ok(text.includes(`"${c.list}"`), 'names the list');
      assert.ok(text.includes(c.cidr), 'names the CIDR');
    });
  }
});

describe('describeFinding: new country', () => {
  const cases: { name: string; country: string; known: string[]; text: string }[] = [
    { name: 'Australia after the UK', country: 'AU', known: ['GB'], text: 'New country: Australia (earlier sign-ins from United Kingdom)' },
    // The assessor sorts by code, so DE (Germany) comes before GB (United Kingdom).
    { name: 'Australia after the UK and Germany', country: 'AU', known: ['GB', 'DE'], text: 'New country: Australia (earlier sign-ins from Germany, United Kingdom)' },
    { name: 'Japan after the US and France', country: 'JP', known: ['US', 'FR'], text: 'New country: Japan (earlier sign-ins from France, United States)' },
    { name: 'a code ICU does not know stays a code', country: 'XX', known: ['FR'], text: 'New country: XX (earlier sign-ins from France)' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const finding = assessNewCountry({ country: c.country, known: c.known }, NOW);
      assert.equal(finding.fired, true);
      const text = describeFinding(finding);
      assert.equal(text, c.text);
      assert.doesNotMatch(text, new RegExp(`\\b${c.known[0]}\\b`), 'earlier countries are named, not coded');
    });
  }

  it('without a known list, no parenthesis', () => {
    const finding: Finding = { code: 'new_country', fired: true, confidence: 'medium', evidence: { reason: 'first_time', country: 'AU' } };
    assert.equal(describeFinding(finding), 'New country: Australia');
  });
});

describe('describeFired', () => {
  const travelFired = assessImpossibleTravel({ previous: { ...LONDON, at: NOW - 10 * MIN }, current: SYDNEY, maxSpeedKmh: 1000 }, NOW);
  const travelQuiet = assessImpossibleTravel({ previous: null, current: SYDNEY, maxSpeedKmh: 1000 }, NOW);
  const ipFired = assessUntrustedIp({ match: { list: 'tor-exits', cidr: '185.220.101.0/24' } }, NOW);
  const ipQuiet = assessUntrustedIp({ match: null }, NOW);
  const countryFired = assessNewCountry({ country: 'AU', known: ['GB'] }, NOW);
  const countryQuiet = assessNewCountry({ country: 'GB', known: ['GB'] }, NOW);
  const deviceQuiet = assessNewDevice({ known: { browser: 'Chrome', os: 'Windows', lastSeenAt: NOW }, cookiePresent: true, current: { browser: 'Chrome', os: 'Windows' }, knownDeviceCount: 1, rememberForMs: 30 * DAY }, NOW);
  const deviceFired = assessNewDevice({ known: null, cookiePresent: false, current: { browser: 'Chrome', os: 'Windows' }, knownDeviceCount: 1, rememberForMs: 30 * DAY }, NOW);

  const cases: { name: string; findings: Finding[]; texts: string[] }[] = [
    { name: 'none', findings: [], texts: [] },
    { name: 'all quiet', findings: [deviceQuiet, travelQuiet, ipQuiet, countryQuiet], texts: [] },
    { name: 'one fired among quiet', findings: [deviceQuiet, travelQuiet, ipFired, countryQuiet], texts: ['Untrusted IP: listed in "tor-exits" (185.220.101.0/24)'] },
    {
      name: 'several fired, in input order',
      findings: [countryFired, travelQuiet, deviceFired, ipQuiet],
      texts: ['New country: Australia (earlier sign-ins from United Kingdom)', 'New device: Chrome on Windows'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(describeFired(c.findings), c.texts));
  }

  it('all fired: one sentence each, travel first', () => {
    const texts = describeFired([travelFired, deviceFired, ipFired, countryFired]);
    assert.equal(texts.length, 4);
    assert.ok(texts[0]!.startsWith('Impossible travel: London, United Kingdom → Sydney, Australia, '), texts[0]);
    assert.equal(texts[1], 'New device: Chrome on Windows');
  });
});

describe('deviceFamily on real user agents', () => {
  const cases: { name: string; ua: string | null; family: DeviceFamily; text: string }[] = [
    {
      name: 'Chrome on Windows',
      ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      family: { browser: 'Chrome', os: 'Windows' },
      text: 'Chrome on Windows',
    },
    {
      name: 'Edge on Windows is not Chrome',
      ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
      family: { browser: 'Edge', os: 'Windows' },
      text: 'Edge on Windows',
    },
    {
      name: 'Safari on iOS',
      ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      family: { browser: 'Mobile Safari', os: 'iOS' },
      text: 'Mobile Safari on iOS',
    },
    {
      name: 'Safari on macOS',
      ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
      family: { browser: 'Safari', os: 'Mac OS' },
      text: 'Safari on Mac OS',
    },
    {
      name: 'Firefox on Linux',
      ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
      family: { browser: 'Firefox', os: 'Linux' },
      text: 'Firefox on Linux',
    },
    {
      name: 'Chrome on Android',
      ua: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
      family: { browser: 'Chrome', os: 'Android' },
      text: 'Chrome on Android',
    },
    { name: 'null user agent', ua: null, family: { browser: null, os: null }, text: 'Unknown browser' },
    { name: 'empty user agent', ua: '', family: { browser: null, os: null }, text: 'Unknown browser' },
    { name: 'garbage', ua: 'not a user agent at all', family: { browser: null, os: null }, text: 'Unknown browser' },
    { name: 'symbols', ua: '!!@@##$$%%', family: { browser: null, os: null }, text: 'Unknown browser' },
    {
      name: 'a real UA followed by a long tail still parses',
      ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 ' + 'x'.repeat(5000),
      family: { browser: 'Chrome', os: 'Windows' },
      text: 'Chrome on Windows',
    },
    {
      name: 'a UA buried after a 2000-character prefix is not parsed (input is capped)',
      ua: 'x'.repeat(2000) + ' Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
      family: { browser: null, os: null },
      text: 'Unknown browser',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const family = deviceFamily(c.ua);
      assert.equal(family.browser, c.family.browser, 'browser');
      assert.equal(family.os, c.family.os, 'os');
      assert.equal(describeFamily(family), c.text);
    });
  }
});

describe('describeFamily', () => {
  const cases: { family: DeviceFamily; text: string }[] = [
    { family: { browser: 'Chrome', os: 'Windows' }, text: 'Chrome on Windows' },
    { family: { browser: 'Firefox', os: null }, text: 'Firefox' },
    { family: { browser: null, os: 'iOS' }, text: 'Unknown browser on iOS' },
    { family: { browser: null, os: null }, text: 'Unknown browser' },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.family)} → "${c.text}"`, () => assert.equal(describeFamily(c.family), c.text));
  }
});
