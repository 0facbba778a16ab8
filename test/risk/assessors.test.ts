// The four pure risk assessors, table-driven: impossible travel over real city coordinates, new device, untrusted IP and
// new country. Each case states the facts and the verdict it expects.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  assessImpossibleTravel,
  assessNewCountry,
  assessNewDevice,
  assessUntrustedIp,
  DEFAULT_CITY_ACCURACY_KM,
  DEFAULT_COUNTRY_ACCURACY_KM,
  radiusOf,
  type DeviceFacts,
  type PlaceFacts,
  type TravelFacts,
} from '../../src/protection/risk/assessors.js';
import { distanceKm } from '../../src/protection/geo/distance.js';
import type { Confidence, Finding } from '../../src/protection/risk/risk-types.js';

const NOW = 1_700_000_000_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const CITIES = {
  london: { latitude: 51.5081, longitude: -0.1278, label: 'London, United Kingdom', ip: '81.2.69.142' },
  sydney: { latitude: -33.8784, longitude: 151.1949, label: 'Sydney, Australia', ip: '1.128.0.1' },
  paris: { latitude: 48.8566, longitude: 2.3522, label: 'Paris, France', ip: '90.84.0.1' },
  newYork: { latitude: 40.7128, longitude: -74.006, label: 'New York, United States', ip: '24.90.0.1' },
  bracknell: { latitude: 51.4036, longitude: -0.7618, label: 'Bracknell, United Kingdom', ip: '86.128.0.1' },
} as const;
type City = keyof typeof CITIES;

interface PlaceOptions {
  hasCity?: boolean;
  accuracyKm?: number | null;
  ip?: string;
  label?: string | null;
}

function place(city: City, options: PlaceOptions = {}): PlaceFacts & { ip: string } {
  const c = CITIES[city];
  return {
    latitude: c.latitude,
    longitude: c.longitude,
    accuracyKm: options.accuracyKm ?? null,
    hasCity: options.hasCity ?? true,
    label: options.label === undefined ? c.label : options.label,
    ip: options.ip ?? c.ip,
  };
}

/** A trip from `from` at NOW - elapsedMs to `to` at NOW. */
function trip(from: City, to: City, elapsedMs: number, fromOptions: PlaceOptions = {}, toOptions: PlaceOptions = {}, maxSpeedKmh = 1000): TravelFacts {
  return { previous: { ...place(from, fromOptions), at: NOW - elapsedMs }, current: place(to, toOptions), maxSpeedKmh };
}

const num = (finding: Finding, key: string): number => {
  const value = finding.evidence[key];
  assert.equal(typeof value, 'number', `evidence.${key} is a number (got ${JSON.stringify(value)})`);
  return value as number;
};

const within = (actual: number, expected: number, fraction: number, what: string): void => {
  assert.ok(Math.abs(actual - expected) <= expected * fraction, `${what}: ${actual} is within ${fraction * 100}% of ${expected}`);
};

describe('assessImpossibleTravel', () => {
  describe('great-circle distances between real cities', () => {
    const cases: { from: City; to: City; km: number }[] = [
      { from: 'london', to: 'sydney', km: 16_990 },
      { from: 'london', to: 'paris', km: 344 },
      { from: 'london', to: 'newYork', km: 5_570 },
      { from: 'sydney', to: 'london', km: 16_990 },
      { from: 'paris', to: 'london', km: 344 },
      { from: 'london', to: 'bracknell', km: 45 },
    ];
    for (const { from, to, km } of cases) {
      it(`${from} → ${to} ≈ ${km} km`, () => {
        const a = CITIES[from];
        const b = CITIES[to];
        within(distanceKm(a, b), km, 0.01, 'distanceKm');
        // The assessor reports the same distance (rounded) in its evidence.
        const finding = assessImpossibleTravel(trip(from, to, 10 * MIN), NOW);
        within(num(finding, 'distance_km'), km, 0.01, 'evidence.distance_km');
        assert.equal(num(finding, 'distance_km'), Math.round(distanceKm(a, b)));
      });
    }

    it('is zero for the same point and symmetric', () => {
      assert.equal(distanceKm(CITIES.london, CITIES.london), 0);
      assert.equal(distanceKm(CITIES.london, CITIES.sydney), distanceKm(CITIES.sydney, CITIES.london));
    });
  });

  describe('speeds between cities (default city accuracy, 1000 km/h limit)', () => {
    const cases: {
      name: string;
      facts: TravelFacts;
      fired: boolean;
      confidence: Confidence;
      reason: string;
      speed: [number, number];
    }[] = [
      { name: 'London → Sydney in 10 min', facts: trip('london', 'sydney', 10 * MIN), fired: true, confidence: 'high', reason: 'too_fast', speed: [100_000, 102_000] },
      { name: 'Sydney → London in 10 min', facts: trip('sydney', 'london', 10 * MIN), fired: true, confidence: 'high', reason: 'too_fast', speed: [100_000, 102_000] },
      { name: 'London → Sydney in 24 h (≈ 700 km/h)', facts: trip('london', 'sydney', DAY), fired: false, confidence: 'low', reason: 'plausible', speed: [690, 710] },
      // 344 km less 2 × 50 km = 244 km in half an hour.
      { name: 'London → Paris in 30 min (≈ 488 km/h)', facts: trip('london', 'paris', 30 * MIN), fired: false, confidence: 'low', reason: 'plausible', speed: [485, 490] },
      // 244 km in 10 min ≈ 1,462 km/h: above the limit, but under 1000 km effective, so only medium.
      { name: 'London → Paris in 10 min', facts: trip('london', 'paris', 10 * MIN), fired: true, confidence: 'medium', reason: 'too_fast', speed: [1_455, 1_470] },
      // Far above 3× the limit, yet the effective distance stays under 1000 km: still medium.
      { name: 'London → Paris in 1 min', facts: trip('london', 'paris', MIN), fired: true, confidence: 'medium', reason: 'too_fast', speed: [14_500, 14_700] },
      // 5,470 km in 1 h: over 3× the limit and over 1000 km: high.
      { name: 'London → New York in 1 h', facts: trip('london', 'newYork', HOUR), fired: true, confidence: 'high', reason: 'too_fast', speed: [5_420, 5_520] },
      // 5,470 km in 4 h ≈ 1,367 km/h: above the limit but under 3×: medium.
      { name: 'London → New York in 4 h', facts: trip('london', 'newYork', 4 * HOUR), fired: true, confidence: 'medium', reason: 'too_fast', speed: [1_355, 1_380] },
      { name: 'London → New York in 8 h', facts: trip('london', 'newYork', 8 * HOUR), fired: false, confidence: 'low', reason: 'plausible', speed: [675, 690] },
      // ~45 km apart, inside the two 50 km radii: no effective distance at all.
      { name: 'Bracknell → London in 1 min', facts: trip('bracknell', 'london', MIN), fired: false, confidence: 'low', reason: 'plausible', speed: [0, 0] },
      { name: 'London → Bracknell in 0 min', facts: trip('london', 'bracknell', 0), fired: false, confidence: 'low', reason: 'plausible', speed: [0, 0] },
      // A stricter operator limit turns a plausible trip into a finding.
      { name: 'London → Paris in 30 min with a 300 km/h limit', facts: { ...trip('london', 'paris', 30 * MIN), maxSpeedKmh: 300 }, fired: true, confidence: 'medium', reason: 'too_fast', speed: [485, 490] },
      // A looser one the other way round.
      { name: 'London → Paris in 10 min with a 2000 km/h limit', facts: { ...trip('london', 'paris', 10 * MIN), maxSpeedKmh: 2000 }, fired: false, confidence: 'low', reason: 'plausible', speed: [1_455, 1_470] },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const finding = assessImpossibleTravel(c.facts, NOW);
        assert.equal(finding.code, 'impossible_travel');
        assert.equal(finding.fired, c.fired, 'fired');
        assert.equal(finding.confidence, c.confidence, 'confidence');
        assert.equal(finding.evidence.reason, c.reason, 'reason');
        const speed = num(finding, 'speed_kmh');
        assert.ok(speed >= c.speed[0] && speed <= c.speed[1], `speed_kmh ${speed} in [${c.speed[0]}, ${c.speed[1]}]`);
        assert.equal(finding.evidence.max_speed_kmh, c.facts.maxSpeedKmh);
      });
    }
  });

  describe('accuracy radius', () => {
    it('radiusOf: an explicit radius wins, else 50 km for a city and 500 km for a country', () => {
      const cases: { accuracyKm: number | null; hasCity: boolean; radius: number }[] = [
        { accuracyKm: null, hasCity: true, radius: DEFAULT_CITY_ACCURACY_KM },
        { accuracyKm: null, hasCity: false, radius: DEFAULT_COUNTRY_ACCURACY_KM },
        { accuracyKm: 20, hasCity: false, radius: 20 },
        { accuracyKm: 1000, hasCity: true, radius: 1000 },
        // Zero is a radius, not a missing one.
        { accuracyKm: 0, hasCity: true, radius: 0 },
        { accuracyKm: 0, hasCity: false, radius: 0 },
      ];
      assert.equal(DEFAULT_CITY_ACCURACY_KM, 50);
      assert.equal(DEFAULT_COUNTRY_ACCURACY_KM, 500);
      for (const c of cases) assert.equal(radiusOf(c), c.radius, JSON.stringify(c));
    });

    // London → New York, 5,570 km, in 5.2 h: 5,470 km effective with two city radii is ≈ 1,052 km/h (fires); a country-only
    // record on either end widens the allowance enough to stay under 1000 km/h.
    const ELAPSED = 312 * MIN;
    const cases: { name: string; from: PlaceOptions; to: PlaceOptions; allowance: number; fired: boolean }[] = [
      { name: 'two city records fire', from: {}, to: {}, allowance: 100, fired: true },
      { name: 'a country-only current record stays quiet', from: {}, to: { hasCity: false }, allowance: 550, fired: false },
      { name: 'a country-only previous record stays quiet', from: { hasCity: false }, to: {}, allowance: 550, fired: false },
      { name: 'two country-only records stay quiet', from: { hasCity: false }, to: { hasCity: false }, allowance: 1000, fired: false },
      { name: 'a MaxMind radius of 20 km on a country-only record beats the 500 km default', from: {}, to: { hasCity: false, accuracyKm: 20 }, allowance: 70, fired: true },
      { name: 'a MaxMind radius of 1000 km on a city record beats the 50 km default', from: {}, to: { hasCity: true, accuracyKm: 1000 }, allowance: 1050, fired: false },
      { name: 'MaxMind radii of 0 km leave no allowance', from: { accuracyKm: 0 }, to: { accuracyKm: 0 }, allowance: 0, fired: true },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const finding = assessImpossibleTravel(trip('london', 'newYork', ELAPSED, c.from, c.to), NOW);
        assert.equal(finding.evidence.allowance_km, c.allowance, 'allowance_km');
        assert.equal(finding.fired, c.fired, `fired (speed ${finding.evidence.speed_kmh} km/h)`);
        assert.equal(finding.evidence.reason, c.fired ? 'too_fast' : 'plausible');
        const expectedSpeed = Math.round((distanceKm(CITIES.london, CITIES.newYork) - c.allowance) / (ELAPSED / HOUR));
        assert.equal(finding.evidence.speed_kmh, expectedSpeed, 'speed uses the distance less the allowance');
      });
    }

    it('London → Paris in 10 min with country-only records: the allowance swallows the distance', () => {
      const finding = assessImpossibleTravel(trip('london', 'paris', 10 * MIN, { hasCity: false }, { hasCity: false }), NOW);
      assert.equal(finding.fired, false);
      assert.equal(finding.evidence.speed_kmh, 0);
      assert.equal(finding.evidence.allowance_km, 1000);
    });
  });

  describe('quiet without enough facts', () => {
    const previous = { ...place('london'), at: NOW - 10 * MIN };
    const current = place('sydney');
    const cases: { name: string; facts: TravelFacts; reason: string }[] = [
      { name: 'no previous login', facts: { previous: null, current, maxSpeedKmh: 1000 }, reason: 'no_previous_login' },
      { name: 'no previous login and no location', facts: { previous: null, current: null, maxSpeedKmh: 1000 }, reason: 'no_previous_login' },
      { name: 'current location unknown', facts: { previous, current: null, maxSpeedKmh: 1000 }, reason: 'no_location' },
      { name: 'current latitude null', facts: { previous, current: { ...current, latitude: null }, maxSpeedKmh: 1000 }, reason: 'no_location' },
      { name: 'current longitude null', facts: { previous, current: { ...current, longitude: null }, maxSpeedKmh: 1000 }, reason: 'no_location' },
      { name: 'previous latitude null', facts: { previous: { ...previous, latitude: null }, current, maxSpeedKmh: 1000 }, reason: 'no_previous_location' },
      { name: 'previous longitude null', facts: { previous: { ...previous, longitude: null }, current, maxSpeedKmh: 1000 }, reason: 'no_previous_location' },
      { name: 'same IPv4 (data says London then Sydney)', facts: { previous: { ...previous, ip: '203.0.113.7' }, current: { ...current, ip: '203.0.113.7' }, maxSpeedKmh: 1000 }, reason: 'same_ip' },
      { name: 'same IPv6 (data says London then Sydney)', facts: { previous: { ...previous, ip: '2001:db8::7' }, current: { ...current, ip: '2001:db8::7' }, maxSpeedKmh: 1000 }, reason: 'same_ip' },
      { name: 'same IP within the same instant', facts: { previous: { ...previous, at: NOW, ip: '2a00:1450::1' }, current: { ...current, ip: '2a00:1450::1' }, maxSpeedKmh: 100 }, reason: 'same_ip' },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.reason}`, () => {
        const finding = assessImpossibleTravel(c.facts, NOW);
        assert.equal(finding.code, 'impossible_travel');
        assert.equal(finding.fired, false);
        assert.equal(finding.confidence, 'low');
        assert.equal(finding.evidence.reason, c.reason);
        assert.equal('speed_kmh' in finding.evidence, false, 'no speed is computed');
      });
    }
  });

  describe('elapsed time under a minute counts as one minute', () => {
    const oneMinute = assessImpossibleTravel(trip('london', 'sydney', MIN), NOW);
    const cases: { name: string; elapsedMs: number; elapsedMin: number }[] = [
      { name: 'same instant', elapsedMs: 0, elapsedMin: 0 },
      { name: '1 ms', elapsedMs: 1, elapsedMin: 0 },
      { name: '20 s', elapsedMs: 20_000, elapsedMin: 0 },
      { name: '59.9 s', elapsedMs: 59_900, elapsedMin: 1 },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const finding = assessImpossibleTravel(trip('london', 'sydney', c.elapsedMs), NOW);
        const speed = num(finding, 'speed_kmh');
        assert.ok(Number.isFinite(speed), `speed_kmh is finite (${speed})`);
        assert.equal(speed, oneMinute.evidence.speed_kmh, 'the same speed as exactly one minute');
        assert.equal(finding.evidence.elapsed_min, c.elapsedMin, 'elapsed_min reports the real time, rounded');
        assert.equal(finding.fired, true);
        assert.equal(finding.confidence, 'high');
      });
    }

    it('one minute apart is ≈ (16,994 − 100) × 60 km/h', () => {
      within(num(oneMinute, 'speed_kmh'), (distanceKm(CITIES.london, CITIES.sydney) - 100) * 60, 0.0001, 'speed_kmh');
    });
  });

  describe('IPv6 and mixed address families behave like IPv4', () => {
    const cases: { name: string; from: string; to: string }[] = [
      { name: 'IPv6 → IPv6', from: '2a00:23c5:e0a:1::1', to: '2001:4860:4860::8888' },
      { name: 'IPv4 → IPv6', from: '81.2.69.142', to: '2001:4860:4860::8888' },
      { name: 'IPv6 → IPv4', from: '2a00:23c5:e0a:1::1', to: '1.128.0.1' },
    ];
    const v4 = assessImpossibleTravel(trip('london', 'sydney', 10 * MIN), NOW);
    for (const c of cases) {
      it(`${c.name}: London → Sydney in 10 min fires high`, () => {
        const finding = assessImpossibleTravel(trip('london', 'sydney', 10 * MIN, { ip: c.from }, { ip: c.to }), NOW);
        assert.equal(finding.fired, true);
        assert.equal(finding.confidence, 'high');
        assert.equal(finding.evidence.speed_kmh, v4.evidence.speed_kmh);
        assert.equal(finding.evidence.distance_km, v4.evidence.distance_km);
      });
      it(`${c.name}: London → Paris in 30 min stays quiet`, () => {
        const finding = assessImpossibleTravel(trip('london', 'paris', 30 * MIN, { ip: c.from }, { ip: c.to }), NOW);
        assert.equal(finding.fired, false);
        assert.equal(finding.evidence.reason, 'plausible');
      });
    }
  });

  describe('evidence', () => {
    it('London → Sydney in 10 min carries every field, with sensible values', () => {
      const finding = assessImpossibleTravel(trip('london', 'sydney', 10 * MIN), NOW);
      const e = finding.evidence;
      assert.equal(e.reason, 'too_fast');
      assert.equal(e.from, 'London, United Kingdom');
      assert.equal(e.to, 'Sydney, Australia');
      within(num(finding, 'distance_km'), 16_990, 0.01, 'distance_km');
      assert.ok(Number.isInteger(e.distance_km), 'distance_km is rounded');
      assert.equal(e.allowance_km, 100);
      assert.equal(e.elapsed_min, 10);
      assert.equal(e.speed_kmh, Math.round((distanceKm(CITIES.london, CITIES.sydney) - 100) / (10 / 60)));
      assert.ok(Number.isInteger(e.speed_kmh), 'speed_kmh is rounded');
      assert.equal(e.max_speed_kmh, 1000);
    });

    it('a plausible trip carries the same fields', () => {
      const finding = assessImpossibleTravel(trip('london', 'paris', 30 * MIN), NOW);
      for (const key of ['from', 'to', 'distance_km', 'allowance_km', 'elapsed_min', 'speed_kmh', 'max_speed_kmh']) {
        assert.ok(key in finding.evidence, `evidence.${key}`);
      }
      assert.equal(finding.evidence.elapsed_min, 30);
      assert.equal(finding.evidence.from, 'London, United Kingdom');
      assert.equal(finding.evidence.to, 'Paris, France');
    });

    it('unlabelled places report null labels', () => {
      const finding = assessImpossibleTravel(trip('london', 'sydney', 10 * MIN, { label: null }, { label: null }), NOW);
      assert.equal(finding.evidence.from, null);
      assert.equal(finding.evidence.to, null);
      assert.equal(finding.fired, true);
    });

    it('elapsed_min rounds long gaps to whole minutes', () => {
      const finding = assessImpossibleTravel(trip('london', 'sydney', 3 * DAY + 29_000), NOW);
      assert.equal(finding.evidence.elapsed_min, 3 * 24 * 60);
    });
  });

  describe('threshold boundary', () => {
    // Reproduce the assessor's arithmetic so the limit can be set to the exact speed.
    const ELAPSED = 5 * HOUR;
    const effective = distanceKm(CITIES.london, CITIES.newYork) - 2 * DEFAULT_CITY_ACCURACY_KM;
    const speed = effective / (ELAPSED / 3_600_000);
    const cases: { name: string; max: number; fired: boolean }[] = [
      { name: 'speed exactly at the limit does not fire', max: speed, fired: false },
      { name: 'a limit just above the speed does not fire', max: speed + 1e-6, fired: false },
      { name: 'speed just above the limit fires', max: speed - 1e-6, fired: true },
      { name: 'the integer limit just under the speed fires', max: Math.floor(speed), fired: true },
      { name: 'the integer limit just over the speed does not fire', max: Math.ceil(speed), fired: false },
    ];
    for (const c of cases) {
      it(`${c.name} (speed ≈ ${speed.toFixed(3)} km/h, limit ${c.max})`, () => {
        const finding = assessImpossibleTravel({ ...trip('london', 'newYork', ELAPSED), maxSpeedKmh: c.max }, NOW);
        assert.equal(finding.fired, c.fired);
        assert.equal(finding.evidence.reason, c.fired ? 'too_fast' : 'plausible');
        if (c.fired) assert.equal(finding.confidence, 'medium');
      });
    }

    it('high needs more than 3× the limit', () => {
      // Limits around speed / 3: just below fires high, clearly above only medium.
      const high = assessImpossibleTravel({ ...trip('london', 'newYork', ELAPSED), maxSpeedKmh: speed / 3 - 1e-6 }, NOW);
      const medium = assessImpossibleTravel({ ...trip('london', 'newYork', ELAPSED), maxSpeedKmh: speed / 3 + 1e-6 }, NOW);
      assert.equal(high.confidence, 'high');
      assert.equal(medium.confidence, 'medium');
      assert.equal(medium.fired, true);
    });

    it('exactly 3× the limit is medium, not high', () => {
      const max = speed / 3;
      assert.equal(3 * max, speed, 'precondition: 3 × (speed / 3) is exact in floating point');
      const finding = assessImpossibleTravel({ ...trip('london', 'newYork', ELAPSED), maxSpeedKmh: max }, NOW);
      assert.equal(finding.fired, true);
      assert.equal(finding.confidence, 'medium');
    });
  });
});

describe('assessNewDevice', () => {
  const WINDOW = 30 * DAY;
  const chromeWindows = { browser: 'Chrome', os: 'Windows' };
  const base = (overrides: Partial<DeviceFacts>): DeviceFacts => ({
    known: null,
    cookiePresent: false,
    current: chromeWindows,
    knownDeviceCount: 0,
    rememberForMs: WINDOW,
    ...overrides,
  });
  const cases: {
    name: string;
    facts: DeviceFacts;
    fired: boolean;
    confidence: Confidence;
    reason: string;
    knownBrowser?: string | null;
    knownOs?: string | null;
  }[] = [
    { name: 'known device, same family, seen yesterday', facts: base({ known: { ...chromeWindows, lastSeenAt: NOW - DAY }, cookiePresent: true, knownDeviceCount: 2 }), fired: false, confidence: 'low', reason: 'known_device' },
    { name: 'known device, same unknown family', facts: base({ known: { browser: null, os: null, lastSeenAt: NOW - DAY }, cookiePresent: true, current: { browser: null, os: null }, knownDeviceCount: 1 }), fired: false, confidence: 'low', reason: 'known_device' },
    { name: 'window boundary: last seen exactly one window ago counts as known', facts: base({ known: { ...chromeWindows, lastSeenAt: NOW - WINDOW }, cookiePresent: true, knownDeviceCount: 1 }), fired: false, confidence: 'low', reason: 'known_device' },
    { name: 'no cookie, other devices known', facts: base({ cookiePresent: false, knownDeviceCount: 3 }), fired: true, confidence: 'medium', reason: 'no_cookie' },
    { name: 'unknown cookie, other devices known', facts: base({ cookiePresent: true, knownDeviceCount: 3 }), fired: true, confidence: 'medium', reason: 'unknown_cookie' },
    { name: 'no cookie, no devices at all (no baseline)', facts: base({ cookiePresent: false, knownDeviceCount: 0 }), fired: false, confidence: 'low', reason: 'no_baseline' },
    { name: 'unknown cookie, no devices at all (no baseline)', facts: base({ cookiePresent: true, knownDeviceCount: 0 }), fired: false, confidence: 'low', reason: 'no_baseline' },
    { name: 'cookie matched, browser differs', facts: base({ known: { browser: 'Firefox', os: 'Windows', lastSeenAt: NOW - DAY }, cookiePresent: true, knownDeviceCount: 1 }), fired: true, confidence: 'high', reason: 'family_changed', knownBrowser: 'Firefox', knownOs: 'Windows' },
    { name: 'cookie matched, OS differs', facts: base({ known: { browser: 'Chrome', os: 'Linux', lastSeenAt: NOW - DAY }, cookiePresent: true, knownDeviceCount: 1 }), fired: true, confidence: 'high', reason: 'family_changed', knownBrowser: 'Chrome', knownOs: 'Linux' },
    { name: 'cookie matched, both differ', facts: base({ known: { browser: 'Mobile Safari', os: 'iOS', lastSeenAt: NOW - DAY }, cookiePresent: true, knownDeviceCount: 4 }), fired: true, confidence: 'high', reason: 'family_changed', knownBrowser: 'Mobile Safari', knownOs: 'iOS' },
    { name: 'cookie matched, remembered with an unknown family', facts: base({ known: { browser: null, os: null, lastSeenAt: NOW - DAY }, cookiePresent: true, knownDeviceCount: 1 }), fired: true, confidence: 'high', reason: 'family_changed', knownBrowser: null, knownOs: null },
    { name: 'device last seen 1 ms before the window, other devices known', facts: base({ known: { ...chromeWindows, lastSeenAt: NOW - WINDOW - 1 }, cookiePresent: true, knownDeviceCount: 2 }), fired: true, confidence: 'medium', reason: 'forgotten_after_window' },
    { name: 'device last seen long before the window, no devices within it', facts: base({ known: { ...chromeWindows, lastSeenAt: NOW - 90 * DAY }, cookiePresent: true, knownDeviceCount: 0 }), fired: false, confidence: 'low', reason: 'no_baseline' },
    { name: 'device last seen long before the window, another device within it', facts: base({ known: { ...chromeWindows, lastSeenAt: NOW - 90 * DAY }, cookiePresent: true, knownDeviceCount: 1 }), fired: true, confidence: 'medium', reason: 'forgotten_after_window' },
    { name: 'forgotten device with another family is forgotten, not copied', facts: base({ known: { browser: 'Firefox', os: 'Linux', lastSeenAt: NOW - 90 * DAY }, cookiePresent: true, knownDeviceCount: 1 }), fired: true, confidence: 'medium', reason: 'forgotten_after_window' },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.fired ? `fired ${c.confidence}` : 'quiet'} (${c.reason})`, () => {
      const finding = assessNewDevice(c.facts, NOW);
      assert.equal(finding.code, 'new_device');
      assert.equal(finding.fired, c.fired, 'fired');
      assert.equal(finding.confidence, c.confidence, 'confidence');
      assert.equal(finding.evidence.reason, c.reason, 'reason');
      assert.equal(finding.evidence.browser, c.facts.current.browser);
      assert.equal(finding.evidence.os, c.facts.current.os);
      assert.equal(finding.evidence.known_devices, c.facts.knownDeviceCount);
      if (c.reason === 'family_changed') {
        assert.equal(finding.evidence.known_browser, c.knownBrowser);
        assert.equal(finding.evidence.known_os, c.knownOs);
      } else {
        assert.equal('known_browser' in finding.evidence, false);
        assert.equal('known_os' in finding.evidence, false);
      }
    });
  }
});

describe('assessUntrustedIp', () => {
  const cases: { name: string; match: { list: string; cidr: string } | null }[] = [
    { name: 'a Tor exit in an IPv4 range', match: { list: 'tor-exits', cidr: '185.220.101.0/24' } },
    { name: 'a data-center IPv6 range', match: { list: 'datacenters', cidr: '2a01:4f8::/32' } },
    { name: 'a single address', match: { list: 'abuse', cidr: '198.51.100.23/32' } },
    { name: 'not listed', match: null },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const finding = assessUntrustedIp({ match: c.match }, NOW);
      assert.equal(finding.code, 'untrusted_ip');
      if (c.match) {
        assert.equal(finding.fired, true);
        assert.equal(finding.confidence, 'high');
        assert.equal(finding.evidence.reason, 'listed');
        assert.equal(finding.evidence.list, c.match.list);
        assert.equal(finding.evidence.cidr, c.match.cidr);
      } else {
        assert.equal(finding.fired, false);
        assert.equal(finding.confidence, 'low');
        assert.equal(finding.evidence.reason, 'not_listed');
        assert.equal('list' in finding.evidence, false);
        assert.equal('cidr' in finding.evidence, false);
      }
    });
  }
});

describe('assessNewCountry', () => {
  const cases: { name: string; country: string | null; known: string[]; fired: boolean; reason: string; sortedKnown?: string[] }[] = [
    { name: 'no location', country: null, known: ['GB', 'FR'], fired: false, reason: 'no_location' },
    { name: 'no location and no history', country: null, known: [], fired: false, reason: 'no_location' },
    { name: 'no history', country: 'GB', known: [], fired: false, reason: 'no_history' },
    { name: 'seen before (only country)', country: 'GB', known: ['GB'], fired: false, reason: 'seen_before' },
    { name: 'seen before (among others)', country: 'FR', known: ['GB', 'FR', 'DE'], fired: false, reason: 'seen_before' },
    { name: 'new country after one other', country: 'AU', known: ['GB'], fired: true, reason: 'first_time', sortedKnown: ['GB'] },
    { name: 'new country, known listed sorted', country: 'AU', known: ['GB', 'FR', 'DE', 'US'], fired: true, reason: 'first_time', sortedKnown: ['DE', 'FR', 'GB', 'US'] },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.fired ? 'fired' : 'quiet'} (${c.reason})`, () => {
      const known = [...c.known];
      const finding = assessNewCountry({ country: c.country, known }, NOW);
      assert.equal(finding.code, 'new_country');
      assert.equal(finding.fired, c.fired);
      assert.equal(finding.confidence, c.fired ? 'medium' : 'low');
      assert.equal(finding.evidence.reason, c.reason);
      if (c.country === null) assert.equal('country' in finding.evidence, false);
      else assert.equal(finding.evidence.country, c.country);
      if (c.sortedKnown) assert.deepEqual(finding.evidence.known, c.sortedKnown);
      else assert.equal('known' in finding.evidence, false);
      assert.deepEqual(known, c.known, 'the caller\'s list is not reordered');
    });
  }
});
