// A sorted index of CIDR blocks answering "which block holds this address" in O(log n), for 100k+ blocks.
//
// node:net BlockList checks its rules one by one and cannot say which rule matched, so it is neither fast
// nor explainable at this size. CIDR blocks are either nested or disjoint, which allows a simpler structure:
// sort by start (larger block first on ties), remember each block's nearest enclosing block, binary-search
// the last block starting at or before the address, and climb enclosing blocks until one reaches it.
import { parseCidr, parseIp, type Cidr, type IpAddress } from './cidr.js';

export interface RangeIndex<T> {
  /** The most specific block holding `ip`, or null (also for text that is not an IP). */
  find(ip: string): { cidr: string; value: T } | null;
  findAddress(address: IpAddress): { cidr: string; value: T } | null;
  readonly size: number;
}

interface FamilyIndex<K extends number | bigint> {
  starts: K[];
  ends: K[];
  parents: Int32Array;
  items: { cidr: string; value: unknown }[];
}

function buildFamily<K extends number | bigint>(blocks: { start: K; end: K; cidr: string; value: unknown }[]): FamilyIndex<K> {
  blocks.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end > b.end ? -1 : a.end < b.end ? 1 : 0));
  const parents = new Int32Array(blocks.length);
  const stack: number[] = [];
  blocks.forEach((block, i) => {
    // Blocks are nested or disjoint: pop those that end before this one does, i.e. do not enclose it.
    while (stack.length && (blocks[stack[stack.length - 1] as number] as { end: K }).end < block.end) stack.pop();
    parents[i] = stack.length ? (stack[stack.length - 1] as number) : -1;
    stack.push(i);
  });
  return { starts: blocks.map((b) => b.start), ends: blocks.map((b) => b.end), parents, items: blocks.map((b) => ({ cidr: b.cidr, value: b.value })) };
}

function findIn<K extends number | bigint>(index: FamilyIndex<K>, address: K): number {
  const { starts, ends, parents } = index;
  let low = 0;
  let high = starts.length - 1;
  let candidate = -1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if ((starts[mid] as K) <= address) {
      candidate = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  while (candidate !== -1 && (ends[candidate] as K) < address) candidate = parents[candidate] as number;
  return candidate;
}

/** Builds an index from `[cidr text, value]` pairs; entries that are not CIDRs are skipped (validate earlier). */
export function buildRangeIndex<T>(entries: Iterable<{ cidr: string | Cidr; value: T }>): RangeIndex<T> {
  const v4: { start: number; end: number; cidr: string; value: unknown }[] = [];
  const v6: { start: bigint; end: bigint; cidr: string; value: unknown }[] = [];
  for (const entry of entries) {
    const cidr = typeof entry.cidr === 'string' ? parseCidr(entry.cidr)?.cidr : entry.cidr;
    if (!cidr) continue;
    if (cidr.family === 4) v4.push({ start: cidr.start, end: cidr.end, cidr: cidr.text, value: entry.value });
    else v6.push({ start: cidr.start, end: cidr.end, cidr: cidr.text, value: entry.value });
  }
  const index4 = buildFamily(v4);
  const index6 = buildFamily(v6);
  const findAddress = (address: IpAddress): { cidr: string; value: T } | null => {
    const index = address.family === 4 ? index4 : index6;
    const found = address.family === 4 ? findIn(index4, address.value) : findIn(index6, address.value);
    if (found === -1) return null;
    const item = index.items[found] as { cidr: string; value: T };
    return { cidr: item.cidr, value: item.value };
  };
  return {
    size: v4.length + v6.length,
    findAddress,
    find(ip) {
      const address = parseIp(ip);
      return address ? findAddress(address) : null;
    },
  };
}
