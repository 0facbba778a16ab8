// Client IP resolution: X-Forwarded-For is honoured only from the proxies named in PORTCULLIS_TRUST_PROXY.
import { isIP } from 'node:net';

export type TrustProxySetting = false | string[];

/** Parses `false`, `loopback`, or a comma-separated CIDR list into Fastify's trustProxy option. */
export function parseTrustProxy(value: string): TrustProxySetting {
  const trimmed = value.trim().toLowerCase();
  if (trimmed === '' || trimmed === 'false') return false;
  const entries = trimmed.split(',').map((s) => s.trim()).filter(Boolean);
  const out: string[] = [];
  for (const entry of entries) {
    if (entry === 'loopback') {
      out.push('127.0.0.1/8', '::1/128');
      continue;
    }
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))) {
      throw new Error(`PORTCULLIS_TRUST_PROXY: "${entry}" is not an IP address or CIDR (use false, loopback, or e.g. 10.0.0.0/8)`);
    }
    out.push(entry);
  }
  return out;
}

/** Strips the IPv4-mapped IPv6 prefix so one client has one key. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}
