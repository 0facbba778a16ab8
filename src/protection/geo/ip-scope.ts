// Tells public addresses from private, loopback, link-local and reserved ones, which have no location.
import { parseIp, type IpAddress } from '../ip-lists/cidr.js';
import { buildRangeIndex } from '../ip-lists/range-index.js';

// From the IANA special-purpose address registries: blocks that are not globally reachable or are for
// documentation, benchmarks and multicast. IPv4-mapped IPv6 is judged as the IPv4 address it carries.
const NON_PUBLIC = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24',
  '224.0.0.0/4', '240.0.0.0/4',
  // Inside global unicast 2000::/3; everything outside it (::1, fc00::/7, fe80::/10, ff00::/8, …) is non-public anyway.
  '2001:2::/48', '2001:10::/28', '2001:db8::/32', '3fff::/20',
];

/** Immutable, so sharing one across the process is safe. */
const reserved = buildRangeIndex(NON_PUBLIC.map((cidr) => ({ cidr, value: true })));

/** False for private, loopback, link-local, CGNAT, documentation, multicast, reserved and invalid addresses. */
export function isPublicIp(ip: string | IpAddress): boolean {
  const address = typeof ip === 'string' ? parseIp(ip) : ip;
  if (!address) return false;
  if (address.family === 6 && address.value >> 125n !== 1n) return false;
  return reserved.findAddress(address) === null;
}
