// The four risk assessors. Each is pure: facts in (with `now`), a Finding out. The guard gathers the facts.
import { distanceKm } from '../geo/distance.js';
import type { Finding } from './risk-types.js';

export interface DeviceFacts {
  /** The remembered device matching this browser's cookie, or null (no cookie, unknown cookie). */
  known: { browser: string | null; os: string | null; lastSeenAt: number } | null;
  /** Whether the browser sent a device cookie at all. */
  cookiePresent: boolean;
  /** Browser and OS family of this request. */
  current: { browser: string | null; os: string | null };
  /** How many devices the user has within the remember window (0: no baseline yet). */
  knownDeviceCount: number;
  rememberForMs: number;
}

/** New device: no remembered device for this cookie within the window, or the cookie now comes with another browser or OS. */
export function assessNewDevice(facts: DeviceFacts, now: number): Finding {
  const evidence = { browser: facts.current.browser, os: facts.current.os, known_devices: facts.knownDeviceCount };
  const known = facts.known;
  if (known && known.lastSeenAt >= now - facts.rememberForMs) {
    const sameFamily = known.browser === facts.current.browser && known.os === facts.current.os;
    if (sameFamily) return { code: 'new_device', fired: false, confidence: 'low', evidence: { ...evidence, reason: 'known_device' } };
    // The cookie is one we issued, but it arrives from another browser or OS: it may have been copied.
    return {
      code: 'new_device',
      fired: true,
      confidence: 'high',
      evidence: { ...evidence, reason: 'family_changed', known_browser: known.browser, known_os: known.os },
    };
  }
  // With no remembered device at all there is no baseline: every device is new, which says nothing about this login
  // (and a rule blocking new devices would otherwise lock out everyone who never completed a sign-in).
  if (facts.knownDeviceCount === 0) return { code: 'new_device', fired: false, confidence: 'low', evidence: { ...evidence, reason: 'no_baseline' } };
  const reason = known ? 'forgotten_after_window' : facts.cookiePresent ? 'unknown_cookie' : 'no_cookie';
  return { code: 'new_device', fired: true, confidence: 'medium', evidence: { ...evidence, reason } };
}

export interface PlaceFacts {
  latitude: number | null;
  longitude: number | null;
  /** The data's accuracy radius; null when it has none. */
  accuracyKm: number | null;
  /** Whether the record names a city (city-less records are country centroids, so far less precise). */
  hasCity: boolean;
  label: string | null;
}

export interface TravelFacts {
  previous: (PlaceFacts & { at: number; ip: string }) | null;
  current: (PlaceFacts & { ip: string }) | null;
  maxSpeedKmh: number;
}

/** Radius assumed when the data gives none: a city record is good to tens of km, a country centroid to hundreds. */
export const DEFAULT_CITY_ACCURACY_KM = 50;
export const DEFAULT_COUNTRY_ACCURACY_KM = 500;

/** The accuracy radius of a place, or the default for its precision. */
export const radiusOf = (p: Pick<PlaceFacts, 'accuracyKm' | 'hasCity'>): number => p.accuracyKm ?? (p.hasCity ? DEFAULT_CITY_ACCURACY_KM : DEFAULT_COUNTRY_ACCURACY_KM);

/**
 * Impossible travel: the distance from the previous successful login, less both accuracy radii (so coarse data does not
 * raise false alarms), divided by the time elapsed, above `maxSpeedKmh`.
 */
export function assessImpossibleTravel(facts: TravelFacts, now: number): Finding {
  const quiet = (reason: string, extra: Finding['evidence'] = {}): Finding => ({ code: 'impossible_travel', fired: false, confidence: 'low', evidence: { reason, ...extra } });
  const { previous, current } = facts;
  if (!previous) return quiet('no_previous_login');
  if (!current || current.latitude === null || current.longitude === null) return quiet('no_location');
  if (previous.latitude === null || previous.longitude === null) return quiet('no_previous_location');
  if (previous.ip === current.ip) return quiet('same_ip');
  const distance = distanceKm({ latitude: previous.latitude, longitude: previous.longitude }, { latitude: current.latitude, longitude: current.longitude });
  const slack = radiusOf(previous) + radiusOf(current);
  const effective = Math.max(0, distance - slack);
  // A login in the same instant counts as one minute apart, so the speed stays finite and comparable.
  const elapsedMs = Math.max(60_000, now - previous.at);
  const speed = effective / (elapsedMs / 3_600_000);
  const evidence = {
    from: previous.label,
    to: current.label,
    distance_km: Math.round(distance),
    allowance_km: Math.round(slack),
    elapsed_min: Math.round((now - previous.at) / 60_000),
    speed_kmh: Math.round(speed),
    max_speed_kmh: facts.maxSpeedKmh,
  };
  if (speed <= facts.maxSpeedKmh) return { code: 'impossible_travel', fired: false, confidence: 'low', evidence: { reason: 'plausible', ...evidence } };
  // Far beyond any flight, over a distance no accuracy error explains: high. Merely above the limit: medium.
  const confidence = speed > 3 * facts.maxSpeedKmh && effective > 1000 ? 'high' : 'medium';
  return { code: 'impossible_travel', fired: true, confidence, evidence: { reason: 'too_fast', ...evidence } };
}

export interface ReputationFacts {
  match: { list: string; cidr: string } | null;
}

/** Untrusted IP: the address is on one of the operator's lists (Tor exits, abusive or data-center ranges). */
export function assessUntrustedIp(facts: ReputationFacts, _now: number): Finding {
  if (!facts.match) return { code: 'untrusted_ip', fired: false, confidence: 'low', evidence: { reason: 'not_listed' } };
  return { code: 'untrusted_ip', fired: true, confidence: 'high', evidence: { reason: 'listed', list: facts.match.list, cidr: facts.match.cidr } };
}

export interface CountryFacts {
  /** ISO code of this login's country; null when the IP has no location. */
  country: string | null;
  /** Countries of the user's earlier successful logins (within the history window). */
  known: string[];
}

/** New country: the user has signed in before, but never from this country. */
export function assessNewCountry(facts: CountryFacts, _now: number): Finding {
  if (!facts.country) return { code: 'new_country', fired: false, confidence: 'low', evidence: { reason: 'no_location' } };
  if (facts.known.length === 0) return { code: 'new_country', fired: false, confidence: 'low', evidence: { reason: 'no_history', country: facts.country } };
  if (facts.known.includes(facts.country)) return { code: 'new_country', fired: false, confidence: 'low', evidence: { reason: 'seen_before', country: facts.country } };
  return { code: 'new_country', fired: true, confidence: 'medium', evidence: { reason: 'first_time', country: facts.country, known: [...facts.known].sort() } };
}
