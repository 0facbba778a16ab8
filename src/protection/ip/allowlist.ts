// Operator allowlist of IPs and CIDRs that bypass throttling and brute-force protection.
import { BlockList, isIP } from 'node:net';

export interface Allowlist {
  has(ip: string): boolean;
}

export function parseAllowlist(entries: readonly string[]): Allowlist {
  if (entries.every((entry) => !entry.trim())) return { has: () => false };
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    if (!entry) continue;
    const [address, bits] = entry.split('/');
    const family = isIP(address ?? '');
    if (!family) throw new Error(`allowlist entry "${entry}" is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address as string, type);
    else list.addSubnet(address as string, Number(bits), type);
  }
  return {
    has(ip) {
      const family = isIP(ip);
      return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
}
