// Writes small MaxMind DB files for tests, so the operator path (nested GeoIP2 records) runs against a real .mmdb.
// Follows the MaxMind DB format spec 2.0: a binary search tree of 24-bit records, a 16-byte separator, the data
// section, then "\xAB\xCD\xEFMaxMind.com" and the metadata map. Networks must not overlap.
import { parseCidr } from '../../src/protection/ip-lists/cidr.js';

type Value = string | number | boolean | Value[] | { [key: string]: Value } | { uint: number } | { uint64: bigint };

function control(type: number, size: number): Buffer {
  const extended = type > 7;
  const head = (extended ? 0 : type) << 5;
  const parts: number[] = [];
  let sizeBits = size;
  if (size >= 29 + 256) throw new Error('fixture values stay small');
  if (size >= 29) {
    sizeBits = 29;
    parts.push(size - 29);
  }
  return Buffer.from([head | sizeBits, ...(extended ? [type - 7] : []), ...parts]);
}

function uintBytes(value: bigint): Buffer {
  const bytes: number[] = [];
  for (let v = value; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  return Buffer.from(bytes);
}

function encode(value: Value): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, bytes.length), bytes]);
  }
  if (typeof value === 'number') {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([control(3, 8), bytes]);
  }
  if (typeof value === 'boolean') return control(14, value ? 1 : 0);
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)]);
  if ('uint' in value && typeof value.uint === 'number') {
    const bytes = uintBytes(BigInt(value.uint));
    return Buffer.concat([control(value.uint > 0xffff ? 6 : 5, bytes.length), bytes]);
  }
  if ('uint64' in value && typeof value.uint64 === 'bigint') {
    const bytes = uintBytes(value.uint64);
    return Buffer.concat([control(9, bytes.length), bytes]);
  }
  const entries = Object.entries(value as Record<string, Value>);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}

interface TrieNode {
  children: [TrieNode | number | null, TrieNode | number | null];
}

/** Builds an .mmdb holding `networks` (IPv4 CIDRs go under ::/96 in an IPv6 database, as MaxMind does). */
export function buildMmdb(options: { ipVersion: 4 | 6; databaseType: string; networks: { cidr: string; record: Value }[] }): Buffer {
  const depth = options.ipVersion === 6 ? 128 : 32;
  const root: TrieNode = { children: [null, null] };
  const data: Buffer[] = [];
  let dataLength = 0;
  for (const { cidr: text, record } of options.networks) {
    const cidr = parseCidr(text)?.cidr;
    if (!cidr) throw new Error(`bad fixture CIDR ${text}`);
    const prefix = cidr.family === 4 && depth === 128 ? cidr.prefix + 96 : cidr.prefix;
    if (cidr.family === 6 && depth === 32) throw new Error('an IPv4 database cannot hold IPv6 networks');
    const encoded = encode(record);
    const offset = dataLength;
    data.push(encoded);
    dataLength += encoded.length;
    let node = root;
    for (let bit = 0; bit < prefix; bit += 1) {
      const side = Number((BigInt(cidr.start) >> BigInt(depth - 1 - bit)) & 1n) as 0 | 1;
      if (bit === prefix - 1) {
        node.children[side] = offset;
        break;
      }
      const next = node.children[side];
      if (typeof next === 'number') throw new Error('fixture networks must not overlap');
      node = next ?? (node.children[side] = { children: [null, null] });
    }
  }
  const nodes: TrieNode[] = [];
  const ids = new Map<TrieNode, number>();
  for (let queue = [root]; queue.length; ) {
    const node = queue.shift() as TrieNode;
    ids.set(node, nodes.length);
    nodes.push(node);
    for (const child of node.children) if (child && typeof child === 'object') queue.push(child);
  }
  const nodeCount = nodes.length;
  const tree = Buffer.alloc(nodeCount * 6);
  nodes.forEach((node, i) => {
    node.children.forEach((child, side) => {
      const value = child === null ? nodeCount : typeof child === 'number' ? nodeCount + 16 + child : (ids.get(child) as number);
      tree.writeUIntBE(value, i * 6 + side * 3, 3);
    });
  });
  const metadata = encode({
    node_count: { uint: nodeCount },
    record_size: { uint: 24 },
    ip_version: { uint: options.ipVersion },
    database_type: options.databaseType,
    languages: ['en'],
    binary_format_major_version: { uint: 2 },
    binary_format_minor_version: { uint: 0 },
    build_epoch: { uint64: 1_700_000_000n },
    description: { en: 'Portcullis test fixture' },
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...data, Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), metadata]);
}
