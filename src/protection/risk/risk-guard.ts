// Gathers the facts for the assessors (devices, login history, location, IP lists), runs them and applies the policy.
import { hmac } from '../../crypto/hmac.js';
import type { DeviceStore, KnownDevice, LoginHistoryStore, LoginLocation } from '../../store/store.js';
import type { GeoLocation } from '../geo/geo-record.js';
import { locationLabel } from '../geo/geo-locator.js';
import type { IpListMatch } from '../ip-lists/ip-reputation.js';
import { assessImpossibleTravel, assessNewCountry, assessNewDevice, assessUntrustedIp, radiusOf } from './assessors.js';
import { describeFired } from './describe-findings.js';
import { cachedDeviceFamily, type DeviceFamily } from './device-family.js';
import { decideRisk } from './risk-policy.js';
import type { Finding, RiskDecision, RiskRule } from './risk-types.js';

export interface RiskSettings {
  rules: RiskRule[];
  rememberDevicesForMs: number;
  maxTravelSpeedKmh: number;
  /** Logins older than this are neither a travel origin nor a known country, and are pruned. */
  historyWindowMs: number;
}

export interface RiskGuardDeps {
  devices: DeviceStore;
  history: LoginHistoryStore;
  /** Null for private addresses and addresses the data does not know; may throw when the data cannot be read. */
  locate(ip: string): Promise<GeoLocation | null>;
  reputation: { lookup(ip: string): IpListMatch | null };
  /** Keys the device-cookie hash, so a database dump holds no usable cookie. */
  deviceKey: Buffer;
  settings: RiskSettings;
}

export interface RiskContext {
  userId: string;
  ip: string;
  userAgent: string | null;
  /** The browser's device cookie, if it sent one. */
  deviceToken: string | null;
}

/** What an assessment read about the user; the recordLogin that follows in the same request reuses it. */
export interface RiskFacts {
  userId: string;
  ip: string;
  deviceHash: string | null;
  known: KnownDevice | null;
  hasDevices: boolean;
  previous: LoginLocation | null;
  location: GeoLocation | null;
}

export interface RiskAssessment extends RiskDecision {
  findings: Finding[];
  facts: RiskFacts;
  /** Fired findings as sentences. */
  reasons: string[];
  location: string;
  device: DeviceFamily;
}

export interface LoginRecord {
  /** This browser was not a remembered device of the user. */
  newDevice: boolean;
  /** The user had a remembered device or a login before this one (so a new-device notice means something). */
  hadBaseline: boolean;
  location: string;
  device: DeviceFamily;
}

export interface RiskGuard {
  assess(context: RiskContext, now: number): Promise<RiskAssessment>;
  /**
   * After a completed login (any method): remembers the device and the place, for the next assessment. `prior`: the
   * facts of this login's own assessment, when it ran in the same request (used only if they are about this context).
   */
  recordLogin(context: RiskContext, now: number, prior?: RiskFacts): Promise<LoginRecord>;
  /** The stored hash of a device cookie (the account page marks "this device" with it). */
  deviceHash(token: string): string;
  /** Drops devices and history past their windows. */
  prune(now: number): Promise<void>;
}

export function createRiskGuard(deps: RiskGuardDeps): RiskGuard {
  const { settings } = deps;
  const deviceHash = (token: string): string => hmac(deps.deviceKey, token);
  const deviceFamily = cachedDeviceFamily(1_000);

  async function locate(ip: string): Promise<GeoLocation | null> {
    try {
      return await deps.locate(ip);
    } catch {
      return null;
    }
  }

  return {
    deviceHash,
    async assess(context, now) {
      const family = deviceFamily(context.userAgent);
      const since = now - settings.rememberDevicesForMs;
      const hash = context.deviceToken ? deviceHash(context.deviceToken) : null;
      const [known, devices, previous, countries, location] = await Promise.all([
        hash ? deps.devices.find(context.userId, hash) : Promise.resolve(null),
        deps.devices.listForUser(context.userId, since),
        deps.history.last(context.userId),
        deps.history.countries(context.userId, now - settings.historyWindowMs),
        locate(context.ip),
      ]);
      const label = locationLabel(context.ip, location);
      const recent = previous && previous.at >= now - settings.historyWindowMs ? previous : null;
      const findings: Finding[] = [
        assessNewDevice({ known, cookiePresent: context.deviceToken !== null, current: family, knownDeviceCount: devices.length, rememberForMs: settings.rememberDevicesForMs }, now),
        assessImpossibleTravel(
          {
            previous: recent && {
              at: recent.at,
              ip: recent.ip,
              latitude: recent.latitude,
              longitude: recent.longitude,
              accuracyKm: recent.accuracyKm,
              // Stored with the radius already resolved (see recordLogin), so the city fallback never applies here.
              hasCity: true,
              label: recent.label,
            },
            current: location && { ip: context.ip, latitude: location.latitude, longitude: location.longitude, accuracyKm: location.accuracyKm, hasCity: location.city !== null, label },
            maxSpeedKmh: settings.maxTravelSpeedKmh,
          },
          now,
        ),
        assessUntrustedIp({ match: deps.reputation.lookup(context.ip) }, now),
        assessNewCountry({ country: location?.countryCode ?? null, known: countries }, now),
      ];
      const facts: RiskFacts = { userId: context.userId, ip: context.ip, deviceHash: hash, known, hasDevices: devices.length > 0, previous, location };
      return { ...decideRisk(findings, settings.rules), findings, facts, reasons: describeFired(findings), location: label, device: family };
    },

    async recordLogin(context, now, prior) {
      const family = deviceFamily(context.userAgent);
      const since = now - settings.rememberDevicesForMs;
      const hash = context.deviceToken ? deviceHash(context.deviceToken) : null;
      const reuse = prior && prior.userId === context.userId && prior.ip === context.ip && prior.deviceHash === hash;
      const [known, hasDevices, previous, location] = reuse
        ? [prior.known, prior.hasDevices, prior.previous, prior.location]
        : await Promise.all([
            hash ? deps.devices.find(context.userId, hash) : Promise.resolve(null),
            deps.devices.hasAny(context.userId, since),
            deps.history.last(context.userId),
            locate(context.ip),
          ]);
      const label = locationLabel(context.ip, location);
      const newDevice = !(known && known.lastSeenAt >= since && known.browser === family.browser && known.os === family.os);
      if (hash) await deps.devices.remember({ userId: context.userId, deviceHash: hash, browser: family.browser, os: family.os, lastIp: context.ip, lastLocation: label }, now);
      await deps.history.record({
        userId: context.userId,
        at: now,
        ip: context.ip,
        countryCode: location?.countryCode ?? null,
        latitude: location?.latitude ?? null,
        longitude: location?.longitude ?? null,
        accuracyKm: location ? radiusOf({ accuracyKm: location.accuracyKm, hasCity: location.city !== null }) : null,
        label,
      });
      return { newDevice, hadBaseline: hasDevices || (previous !== null && previous.at >= now - settings.historyWindowMs), location: label, device: family };
    },

    async prune(now) {
      await deps.devices.prune(now - settings.rememberDevicesForMs);
      await deps.history.prune(now - settings.historyWindowMs);
    },
  };
}
