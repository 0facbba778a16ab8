// The PWDX on-disk format: header layout, key derivation from a SHA-1, count classes and sizing rules.
//
// Layout (all integers little-endian except the big-endian keys):
//   header (64 B) | bucket table ((2^P + 1) × u32: first entry index of each bucket) | data (n × (K + 1) B) | block CRC table
// A data entry is K bytes of key (hash bits P .. P+8K, big-endian) plus one count-class byte. The first P bits
// of the hash are implicit in the bucket, so an entry keeps P + 8K bits of the SHA-1 (see docs/adr/0006-pwdx.md).
import { crc32 } from 'node:zlib';

export const PWDX_MAGIC = 'PWDX';
export const PWDX_VERSION = 1;
export const HEADER_BYTES = 64;
export const DEFAULT_KEY_BYTES = 5;
export const DEFAULT_BLOCK_BYTES = 64 * 1024;
export const MIN_PREFIX_BITS = 8;
export const MAX_PREFIX_BITS = 24;
/** Bucket table entries are u32 entry indices. */
export const MAX_ENTRIES = 0xffff_ffff;

export interface PwdxHeader {
  version: number;
  prefixBits: number;
  keyBytes: number;
  entryCount: number;
  blockBytes: number;
  tablesCrc: number;
  /** Identifies the source of a generated index (0 for operator imports), so a stale bundled index is rebuilt. */
  sourceTag: number;
  /** The --min-count the index was built with (1 when every entry was kept). */
  minCount: number;
  createdAt: number;
}

/** Raised for any structural or checksum problem: the index is refused rather than trusted. */
export class PwdxFormatError extends Error {
  constructor(path: string, problem: string) {
    super(`breach index ${path} is unusable: ${problem}. Rebuild it with \`portcullis breach import\`.`);
    this.name = 'PwdxFormatError';
  }
}

/**
 * Count class = bit length of the count = ceil(log2(count + 1)), capped at 255: class k means the password
 * was seen between 2^(k-1) and 2^k - 1 times. Class 0 means "listed without a count" (plain password lists).
 */
export function countClassOf(count: number): number {
  if (!(count > 0)) return 0;
  if (count < 0x1_0000_0000) return 32 - Math.clz32(count);
  return Math.min(255, 32 + (32 - Math.clz32(Math.floor(count / 0x1_0000_0000))));
}

/** The smallest count a class stands for (class k ⇒ at least 2^(k-1)). */
export function minCountOfClass(countClass: number): number {
  return countClass <= 0 ? 0 : 2 ** (countClass - 1);
}

/**
 * Buckets of ~128–256 entries: the bucket table costs under 0.04 B/entry and a lookup reads ~1 KiB.
 * With K = 5 this keeps ceil(log2 n) + 32 bits per entry, so the false-positive rate stays under 2^-32 per
 * lookup for any n up to 2^32 (2 billion entries: P = 23, 63 bits).
 */
export function choosePrefixBits(expectedEntries: number, keyBytes = DEFAULT_KEY_BYTES): number {
  const log = Math.ceil(Math.log2(Math.max(2, expectedEntries)));
  return Math.max(MIN_PREFIX_BITS, Math.min(MAX_PREFIX_BITS, 64 - 8 * keyBytes, log - 8));
}

export function bucketTableBytes(prefixBits: number): number {
  return 4 * (2 ** prefixBits + 1);
}

export function blockCount(dataBytes: number, blockBytes: number): number {
  return Math.ceil(dataBytes / blockBytes);
}

export function expectedFileBytes(h: Pick<PwdxHeader, 'prefixBits' | 'keyBytes' | 'entryCount' | 'blockBytes'>): number {
  const dataBytes = h.entryCount * (h.keyBytes + 1);
  return HEADER_BYTES + bucketTableBytes(h.prefixBits) + dataBytes + 4 * blockCount(dataBytes, h.blockBytes);
}

/** Bucket of the first 64 hash bits (hi, lo). */
export function bucketOf(hi: number, prefixBits: number): number {
  return hi >>> (32 - prefixBits);
}

/** The key: hash bits [P, P + 8K) as an exact integer (at most 48 bits). */
export function keyOf(hi: number, lo: number, prefixBits: number, keyBytes: number): number {
  const shiftedHi = ((hi << prefixBits) | (lo >>> (32 - prefixBits))) >>> 0;
  const extra = keyBytes - 4;
  if (extra === 0) return shiftedHi;
  const shiftedLo = (lo << prefixBits) >>> 0;
  return shiftedHi * 2 ** (8 * extra) + (shiftedLo >>> (32 - 8 * extra));
}

export function encodeHeader(h: PwdxHeader): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.write(PWDX_MAGIC, 0, 'latin1');
  buf.writeUInt16LE(h.version, 4);
  buf.writeUInt8(h.prefixBits, 6);
  buf.writeUInt8(h.keyBytes, 7);
  buf.writeBigUInt64LE(BigInt(h.entryCount), 8);
  buf.writeUInt32LE(h.blockBytes, 16);
  buf.writeUInt32LE(h.tablesCrc >>> 0, 20);
  buf.writeUInt32LE(h.sourceTag >>> 0, 24);
  buf.writeUInt32LE(h.minCount >>> 0, 28);
  buf.writeBigUInt64LE(BigInt(h.createdAt), 32);
  buf.writeUInt32LE(crc32(buf.subarray(0, HEADER_BYTES - 4)), HEADER_BYTES - 4);
  return buf;
}

/** Parses and checks a header; every field is validated before it is used to size a read. */
export function decodeHeader(buf: Buffer, path: string): PwdxHeader {
  if (buf.length < HEADER_BYTES) throw new PwdxFormatError(path, `file is ${buf.length} bytes, shorter than the ${HEADER_BYTES}-byte header (truncated?)`);
  if (buf.toString('latin1', 0, 4) !== PWDX_MAGIC) throw new PwdxFormatError(path, 'not a PWDX file (bad magic)');
  const stored = buf.readUInt32LE(HEADER_BYTES - 4);
  const actual = crc32(buf.subarray(0, HEADER_BYTES - 4));
  if (stored !== actual) throw new PwdxFormatError(path, 'header checksum mismatch (corrupted header)');
  const h: PwdxHeader = {
    version: buf.readUInt16LE(4),
    prefixBits: buf.readUInt8(6),
    keyBytes: buf.readUInt8(7),
    entryCount: Number(buf.readBigUInt64LE(8)),
    blockBytes: buf.readUInt32LE(16),
    tablesCrc: buf.readUInt32LE(20),
    sourceTag: buf.readUInt32LE(24),
    minCount: buf.readUInt32LE(28),
    createdAt: Number(buf.readBigUInt64LE(32)),
  };
  if (h.version !== PWDX_VERSION) throw new PwdxFormatError(path, `unsupported version ${h.version} (this build reads version ${PWDX_VERSION})`);
  if (h.keyBytes < 4 || h.keyBytes > 6) throw new PwdxFormatError(path, `unsupported key size ${h.keyBytes}`);
  if (h.prefixBits < MIN_PREFIX_BITS || h.prefixBits > MAX_PREFIX_BITS || h.prefixBits + 8 * h.keyBytes > 64) {
    throw new PwdxFormatError(path, `unsupported prefix size ${h.prefixBits} bits`);
  }
  if (h.entryCount > MAX_ENTRIES) throw new PwdxFormatError(path, `entry count ${h.entryCount} is too large`);
  if (h.blockBytes < 1024 || h.blockBytes > 64 * 1024 * 1024) throw new PwdxFormatError(path, `bad checksum block size ${h.blockBytes}`);
  return h;
}

/** Parses the first 64 bits of a SHA-1 given as 20 bytes or 40 hex characters. */
export function hashPrefix(sha1: Buffer | string): { hi: number; lo: number } {
  if (typeof sha1 === 'string') {
    if (sha1.length !== 40 || !/^[0-9a-fA-F]{40}$/.test(sha1)) throw new TypeError('expected a SHA-1 as 40 hex characters');
    return { hi: Number.parseInt(sha1.slice(0, 8), 16), lo: Number.parseInt(sha1.slice(8, 16), 16) };
  }
  if (sha1.length !== 20) throw new TypeError('expected a SHA-1 as 20 bytes');
  return { hi: sha1.readUInt32BE(0), lo: sha1.readUInt32BE(4) };
}
