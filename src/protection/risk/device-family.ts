// Browser and OS family from a user agent (ua-parser-js 1.x, MIT; never the AGPL 2.x).
import { UAParser } from 'ua-parser-js';

export interface DeviceFamily {
  browser: string | null;
  os: string | null;
}

export function deviceFamily(userAgent: string | null): DeviceFamily {
  if (!userAgent) return { browser: null, os: null };
  const result = new UAParser(userAgent.slice(0, 1024)).getResult();
  return { browser: result.browser.name ?? null, os: result.os.name ?? null };
}

/** "Chrome on Windows", "Unknown browser". */
export function describeFamily(family: DeviceFamily): string {
  return `${family.browser ?? 'Unknown browser'}${family.os ? ` on ${family.os}` : ''}`;
}
