// Groups client IPs for counting: IPv4 as is, IPv6 by its /64 (one subscriber usually holds a whole /64).
import { isIP } from 'node:net';

function expandIpv6(ip: string): string[] {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const last = right.length ? right[right.length - 1] : left[left.length - 1];
  if (last && last.includes('.')) {
    const octets = last.split('.').map(Number);
    const groups = [((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)].map((n) => n.toString(16));
    if (right.length) right.splice(right.length - 1, 1, ...groups);
    else left.splice(left.length - 1, 1, ...groups);
  }
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}

export function ipKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return `${expandIpv6(ip).slice(0, 4).join(':')}::/64`;
}
