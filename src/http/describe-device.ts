// Human descriptions of a session's device and IP for the account page.
import { UAParser } from 'ua-parser-js';
import { isIP } from 'node:net';

export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device';
  const result = new UAParser(userAgent).getResult();
  const browser = result.browser.name ?? 'Unknown browser';
  const os = result.os.name ? ` on ${result.os.name}` : '';
  return `${browser}${os}`;
}

/** Until geolocation lands, private and loopback addresses are named and public ones say so. */
export function describeLocation(ip: string | null): string {
  if (!ip || !isIP(ip)) return 'Unknown location';
  if (/^(127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|::1$|fc|fd|fe80)/i.test(ip)) return 'Local or private network';
  return 'Location unavailable';
}
