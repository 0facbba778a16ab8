// Browser and OS family from a user agent (ua-parser-js 1.x, MIT; never the AGPL 2.x).
import { UAParser } from 'ua-parser-js';
import { boundedMemo } from '../../domain/bounded-memo.js';

export interface DeviceFamily {
  browser: string | null;
  os: string | null;
}

export function deviceFamily(userAgent: string | null): DeviceFamily {
  if (!userAgent) return { browser: null, os: null };
  // Only the two parts used: getResult() would also run the device, CPU and engine rules.
  const parser = new UAParser(userAgent.slice(0, 1024));
  return { browser: parser.getBrowser().name ?? null, os: parser.getOS().name ?? null };
}

/** deviceFamily with the last `limit` user agents remembered (most logins come from a handful of browsers). */
export function cachedDeviceFamily(limit: number): (userAgent: string | null) => DeviceFamily {
  const known = boundedMemo<DeviceFamily>(limit);
  return (userAgent) => (userAgent ? known.get(userAgent, () => deviceFamily(userAgent)) : deviceFamily(userAgent));
}

/** "Chrome on Windows", "Unknown browser". */
export function describeFamily(family: DeviceFamily): string {
  return `${family.browser ?? 'Unknown browser'}${family.os ? ` on ${family.os}` : ''}`;
}
