// Findings as sentences people read: in admin alerts, on the account page and in the console.
import { countryName } from '../geo/geo-record.js';
import type { Finding } from './risk-types.js';

const km = (n: unknown): string => `${Math.round(Number(n)).toLocaleString('en-US')} km`;

function elapsed(minutes: unknown): string {
  const m = Number(minutes);
  if (m < 1) return 'under a minute';
  if (m < 120) return `${m} min`;
  return `${Math.round(m / 60)} h`;
}

export function describeFinding(finding: Finding): string {
  const e = finding.evidence;
  switch (finding.code) {
    case 'impossible_travel':
      return `Impossible travel: ${e.from ?? 'an earlier location'} → ${e.to ?? 'this location'}, ${km(e.distance_km)} in ${elapsed(e.elapsed_min)}`;
    case 'new_device': {
      const device = [e.browser ?? 'Unknown browser', e.os ? `on ${e.os}` : null].filter(Boolean).join(' ');
      return e.reason === 'family_changed'
        ? `Device cookie reused from another browser: ${device} (remembered as ${e.known_browser ?? 'unknown'} on ${e.known_os ?? 'unknown'})`
        : `New device: ${device}`;
    }
    case 'untrusted_ip':
      return `Untrusted IP: listed in "${e.list}" (${e.cidr})`;
    case 'new_country': {
      const known = Array.isArray(e.known) ? e.known.map((c) => countryName(c) ?? c).join(', ') : '';
      return `New country: ${countryName(String(e.country)) ?? e.country}${known ? ` (earlier sign-ins from ${known})` : ''}`;
    }
  }
}

/** The sentences for the assessors that fired. */
export const describeFired = (findings: readonly Finding[]): string[] => findings.filter((f) => f.fired).map(describeFinding);
