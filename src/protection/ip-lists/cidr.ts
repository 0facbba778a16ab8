// Parses IP addresses and CIDRs into numbers (IPv4) or bigints (IPv6) and prints them back in one canonical form.
import { isIP } from 'node:net';

export type IpAddress = { family: 4; value: number } | { family: 6; value: bigint };

interface CidrBase {
  prefix: number;
  /** Canonical text: the network address (host bits cleared), RFC 5952 for IPv6, always with a prefix. */
  text: string;
}

/** A block by its first and last address: numbers for IPv4 (fast to build 100k of), bigints for IPv6. */
export type Cidr = (CidrBase & { family: 4; start: number; end: number }) | (CidrBase & { family: 6; start: bigint; end: bigint });

function parseIpv4(text: string): number {
  let value = 0;
  for (const part of text.split('.')) value = value * 256 + Number(part);
  return value;
}

function parseIpv6(text: string): bigint {
  let body = text;
  let tailGroups: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
    const v4 = parseIpv4(body.slice(lastColon + 1));
    tailGroups = [Math.floor(v4 / 65536), v4 % 65536];
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const [head, tail] = body.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : 8 - left.length - right.length).fill('0'), ...right].map((g) => parseInt(g, 16));
  if (tailGroups.length) groups.splice(6, 2, ...tailGroups);
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

/** Parses an IP address; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4 and a zone (`%eth0`) is dropped. Null if invalid. */
export function parseIp(text: string): IpAddress | null {
  const trimmed = text.trim();
  const family = isIP(trimmed);
  if (family === 4) return { family: 4, value: parseIpv4(trimmed) };
  if (family !== 6) return null;
  const zone = trimmed.indexOf('%');
  const value = parseIpv6(zone === -1 ? trimmed : trimmed.slice(0, zone));
  if (value >> 32n === 0xffffn) return { family: 4, value: Number(value & 0xffffffffn) };
  return { family: 6, value };
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** RFC 5952: lowercase, no leading zeros, the longest run (two or more) of zero groups shortened to `::`. */
export function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function makeCidr4(address: number, prefix: number): { cidr: Cidr; hostBitsSet: boolean } {
  const size = 2 ** (32 - prefix);
  const start = address - (address % size);
  return { cidr: { family: 4, start, end: start + size - 1, prefix, text: `${formatIpv4(start)}/${prefix}` }, hostBitsSet: start !== address };
}

function makeCidr6(address: bigint, prefix: number): { cidr: Cidr; hostBitsSet: boolean } {
  const hostMask = (1n << BigInt(128 - prefix)) - 1n;
  const start = address & ~hostMask;
  return { cidr: { family: 6, start, end: start | hostMask, prefix, text: `${formatIpv6(start)}/${prefix}` }, hostBitsSet: (address & hostMask) !== 0n };
}

/**
 * Parses `IP` or `IP/prefix`. A bare IP is a /32 or /128. Host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`) and
 * reported, since a list author may have meant something else. IPv4-mapped IPv6 blocks become IPv4 blocks.
 */
export function parseCidr(text: string): { cidr: Cidr; hostBitsSet: boolean } | null {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addressText = slash === -1 ? trimmed : trimmed.slice(0, slash);
  if (addressText.includes('%')) return null;
  const family = isIP(addressText);
  if (family !== 4 && family !== 6) return null;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash !== -1) {
    const prefixText = trimmed.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return null;
    prefix = Number(prefixText);
  }
  if (family === 4) return makeCidr4(parseIpv4(addressText), prefix);
  const address = parseIpv6(addressText);
  if (prefix >= 96 && address >> 32n === 0xffffn) return makeCidr4(Number(address & 0xffffffffn), prefix - 96);
  return makeCidr6(address, prefix);
}

/** The canonical text of a CIDR or IP, or null when it is neither. */
export function normalizeCidr(text: string): string | null {
  return parseCidr(text)?.cidr.text ?? null;
}
