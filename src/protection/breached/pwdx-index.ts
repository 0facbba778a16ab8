// Opens a PWDX file: verifies it, holds the bucket table in memory, and answers lookups with one positioned read,
// or none when the bucket is in the index's block cache.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { BlockCache, DEFAULT_BLOCK_CACHE_BYTES, type BlockCacheStats } from './block-cache.js';
import {
  blockCount,
  bucketOf,
  bucketTableBytes,
  decodeHeader,
  expectedFileBytes,
  hashPrefix,
  HEADER_BYTES,
  keyOf,
  PwdxFormatError,
  type PwdxHeader,
} from './pwdx-format.js';

export interface PwdxIndex {
  /** The count class of a listed hash (0: listed without a count), or null when it is not listed. */
  lookup(sha1: Buffer | string): { countClass: number } | null;
  readonly size: number;
  readonly header: Readonly<PwdxHeader>;
  readonly fileBytes: number;
  /** Counters and sizes of this index's block cache. */
  cacheStats(): BlockCacheStats;
  close(): void;
}

export interface OpenPwdxOptions {
  /**
   * full: checksum every data block at open. lazy: checksum a block the first time a lookup reads it.
   * auto (default): full up to 256 MiB of data, lazy above (a 12 GB index would take minutes to check at start).
   * Header, bucket table and block checksums are always checked at open, and the file size must match exactly.
   */
  verify?: 'full' | 'lazy' | 'auto';
  /**
   * Byte budget of the in-process cache of recently read buckets (default 32 MiB; 0: no cache, every lookup reads).
   * Each open index has its own cache, released by close(); a small index never takes more than its data needs.
   */
  cacheBytes?: number;
}

const AUTO_FULL_LIMIT = 256 * 1024 * 1024;

export function openPwdxIndex(path: string, options: OpenPwdxOptions = {}): PwdxIndex {
  const fd = openSync(path, 'r');
  try {
    return new OpenIndex(path, fd, options);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function readExactly(fd: number, buf: Buffer, position: number, path: string, what: string): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new PwdxFormatError(path, `file ends inside the ${what} (truncated)`);
    done += n;
  }
}

class OpenIndex implements PwdxIndex {
  readonly header: PwdxHeader;
  readonly fileBytes: number;
  private readonly table: Uint32Array;
  private readonly blockCrcs: Uint32Array;
  private readonly verified: Uint8Array | null;
  private readonly dataStart: number;
  private readonly entryBytes: number;
  private readonly scratch: Buffer;
  private readonly cache: BlockCache;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly fd: number,
    options: OpenPwdxOptions,
  ) {
    const head = Buffer.alloc(HEADER_BYTES);
    const got = readSync(fd, head, 0, HEADER_BYTES, 0);
    const h = decodeHeader(head.subarray(0, got), path);
    this.header = h;
    this.fileBytes = fstatSync(fd).size;
    const expected = expectedFileBytes(h);
    if (this.fileBytes !== expected) {
      throw new PwdxFormatError(path, `file is ${this.fileBytes} bytes but its header describes ${expected} (${this.fileBytes < expected ? 'truncated' : 'trailing data'})`);
    }
    this.entryBytes = h.keyBytes + 1;
    const dataBytes = h.entryCount * this.entryBytes;
    this.dataStart = HEADER_BYTES + bucketTableBytes(h.prefixBits);
    const tableBuf = Buffer.alloc(bucketTableBytes(h.prefixBits));
    readExactly(fd, tableBuf, HEADER_BYTES, path, 'bucket table');
    const crcBuf = Buffer.alloc(4 * blockCount(dataBytes, h.blockBytes));
    readExactly(fd, crcBuf, this.dataStart + dataBytes, path, 'block checksum table');
    if (crc32(crcBuf, crc32(tableBuf)) !== h.tablesCrc) throw new PwdxFormatError(path, 'bucket table checksum mismatch (corrupted tables)');
    this.table = new Uint32Array(tableBuf.length / 4);
    let maxBucket = 0;
    let usedBuckets = 0;
    for (let b = 0; b < this.table.length; b++) {
      const start = tableBuf.readUInt32LE(b * 4);
      this.table[b] = start;
      if (b > 0) {
        const size = start - (this.table[b - 1] as number);
        if (size < 0) throw new PwdxFormatError(path, `bucket table is not ascending at bucket ${b}`);
        if (size > maxBucket) maxBucket = size;
        if (size > 0) usedBuckets++;
      }
    }
    if (this.table[0] !== 0 || this.table[this.table.length - 1] !== h.entryCount) throw new PwdxFormatError(path, 'bucket table does not cover the entries');
    this.blockCrcs = new Uint32Array(crcBuf.length / 4);
    for (let i = 0; i < this.blockCrcs.length; i++) this.blockCrcs[i] = crcBuf.readUInt32LE(i * 4);
    this.scratch = Buffer.alloc(Math.max(1, maxBucket * this.entryBytes));
    this.cache = new BlockCache(options.cacheBytes ?? DEFAULT_BLOCK_CACHE_BYTES, { maxRangeBytes: maxBucket * this.entryBytes, dataBytes, buckets: usedBuckets });
    const mode = options.verify ?? 'auto';
    const full = mode === 'full' || (mode === 'auto' && dataBytes <= AUTO_FULL_LIMIT);
    this.verified = full ? null : new Uint8Array(this.blockCrcs.length);
    if (full) this.verifyAll(dataBytes);
  }

  get size(): number {
    return this.header.entryCount;
  }

  lookup(sha1: Buffer | string): { countClass: number } | null {
    if (this.closed) throw new Error(`breach index ${this.path} is closed`);
    const { hi, lo } = hashPrefix(sha1);
    const { prefixBits, keyBytes } = this.header;
    const bucket = bucketOf(hi, prefixBits);
    const start = this.table[bucket] as number;
    const end = this.table[bucket + 1] as number;
    if (start === end) return null;
    const len = (end - start) * this.entryBytes;
    const cache = this.cache;
    let buf: Buffer;
    let base: number;
    let at = cache.enabled ? cache.get(bucket) : -1;
    if (at >= 0) {
      buf = cache.buffer();
      base = at;
    } else {
      const position = this.dataStart + start * this.entryBytes;
      if (this.verified) this.verifyRange(position - this.dataStart, len);
      at = cache.enabled ? cache.reserve(bucket, len) : -1;
      buf = at >= 0 ? cache.buffer() : this.scratch;
      base = at >= 0 ? at : 0;
      // The one positioned read, straight into the cache when the bucket can be cached.
      const got = readSync(this.fd, buf, base, len, position);
      if (got !== len) throw new PwdxFormatError(this.path, 'short read (was the file truncated while open?)');
      if (at >= 0) cache.commit(bucket, at, len);
    }
    const key = keyOf(hi, lo, prefixBits, keyBytes);
    const step = this.entryBytes;
    let low = 0;
    let high = end - start - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const off = base + mid * step;
      const probe = keyBytes === 5 ? (buf.readUInt32BE(off) * 256 + (buf[off + 4] as number)) : buf.readUIntBE(off, keyBytes);
      if (probe < key) low = mid + 1;
      else if (probe > key) high = mid - 1;
      else return { countClass: buf[off + keyBytes] as number };
    }
    return null;
  }

  cacheStats(): BlockCacheStats {
    return this.cache.stats();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    closeSync(this.fd);
  }

  private verifyAll(dataBytes: number): void {
    const chunkBlocks = Math.max(1, Math.floor((4 * 1024 * 1024) / this.header.blockBytes));
    const buf = Buffer.alloc(chunkBlocks * this.header.blockBytes);
    for (let first = 0; first < this.blockCrcs.length; first += chunkBlocks) {
      const offset = first * this.header.blockBytes;
      const len = Math.min(buf.length, dataBytes - offset);
      readExactly(this.fd, buf.subarray(0, len), this.dataStart + offset, this.path, 'data');
      for (let i = 0; i * this.header.blockBytes < len; i++) this.checkBlock(first + i, buf.subarray(i * this.header.blockBytes, Math.min(len, (i + 1) * this.header.blockBytes)));
    }
  }

  /** Lazy mode: checks each block a read touches the first time it is touched, so a bad block never answers. */
  private verifyRange(offset: number, len: number): void {
    const verified = this.verified as Uint8Array;
    const bs = this.header.blockBytes;
    const dataBytes = this.header.entryCount * this.entryBytes;
    for (let block = Math.floor(offset / bs); block <= Math.floor((offset + len - 1) / bs); block++) {
      if (verified[block]) continue;
      const blockLen = Math.min(bs, dataBytes - block * bs);
      const buf = Buffer.alloc(blockLen);
      readExactly(this.fd, buf, this.dataStart + block * bs, this.path, 'data');
      this.checkBlock(block, buf);
      verified[block] = 1;
    }
  }

  private checkBlock(block: number, bytes: Buffer): void {
    if (crc32(bytes) !== this.blockCrcs[block]) {
      throw new PwdxFormatError(this.path, `data checksum mismatch in block ${block} (bytes ${block * this.header.blockBytes}–${block * this.header.blockBytes + bytes.length} of the data)`);
    }
  }
}
