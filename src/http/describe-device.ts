// Human descriptions of a session's device and IP for the account page.
import { UAParser } from 'ua-parser-js';

export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device';
  const result = new UAParser(userAgent).getResult();
  const browser = result.browser.name ?? 'Unknown browser';
  const os = result.os.name ? ` on ${result.os.name}` : '';
  return `${browser}${os}`;
}
