// Writes a PWDX file from entries given in ascending hash order, merging duplicates, in constant memory.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import {
  bucketOf,
  bucketTableBytes,
  choosePrefixBits,
  DEFAULT_BLOCK_BYTES,
  DEFAULT_KEY_BYTES,
  encodeHeader,
  HEADER_BYTES,
  keyOf,
  MAX_ENTRIES,
  PWDX_VERSION,
} from './pwdx-format.js';

export interface PwdxWriterOptions {
  /** An estimate (ideally a slight overestimate) of the entry count; it sizes the bucket table. */
  expectedEntries: number;
  keyBytes?: number;
  blockBytes?: number;
  sourceTag?: number;
  minCount?: number;
  now?: number;
}

export interface PwdxWriteSummary {
  entries: number;
  duplicatesMerged: number;
  fileBytes: number;
  prefixBits: number;
}

const OUT_BLOCKS = 16;

export class PwdxWriter {
  readonly prefixBits: number;
  private readonly keyBytes: number;
  private readonly entryBytes: number;
  private readonly blockBytes: number;
  private readonly fd: number;
  private readonly counts: Uint32Array;
  private readonly out: Buffer;
  private readonly dataStart: number;
  private blockCrcs = new Uint32Array(1024);
  private blocks = 0;
  private outUsed = 0;
  private dataWritten = 0;
  private entries = 0;
  private merged = 0;
  // The last entry is held back so that a duplicate (same truncated key) can still raise its class.
  private hasPending = false;
  private pendingBucket = 0;
  private pendingKey = 0;
  private pendingHi = 0;
  private pendingLo = 0;
  private pendingClass = 0;

  constructor(
    path: string,
    private readonly options: PwdxWriterOptions,
  ) {
    this.keyBytes = options.keyBytes ?? DEFAULT_KEY_BYTES;
    this.entryBytes = this.keyBytes + 1;
    this.blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
    this.prefixBits = choosePrefixBits(options.expectedEntries, this.keyBytes);
    this.counts = new Uint32Array(2 ** this.prefixBits + 1);
    this.out = Buffer.alloc(this.blockBytes * OUT_BLOCKS);
    this.dataStart = HEADER_BYTES + bucketTableBytes(this.prefixBits);
    this.fd = openSync(path, 'w', 0o644);
  }

  /** Adds one entry; (hi, lo) are the first 64 bits of the SHA-1 and must not decrease. */
  add(hi: number, lo: number, countClass: number): void {
    const bucket = bucketOf(hi, this.prefixBits);
    const key = keyOf(hi, lo, this.prefixBits, this.keyBytes);
    if (this.hasPending) {
      if (bucket === this.pendingBucket && key === this.pendingKey) {
        if (countClass > this.pendingClass) this.pendingClass = countClass;
        this.merged++;
        return;
      }
      if (bucket < this.pendingBucket || (bucket === this.pendingBucket && key < this.pendingKey)) {
        throw new Error(`PWDX entries must be added in ascending order (got ${hex(hi, lo)} after ${hex(this.pendingHi, this.pendingLo)})`);
      }
      this.emit();
    }
    this.hasPending = true;
    this.pendingBucket = bucket;
    this.pendingKey = key;
    this.pendingHi = hi;
    this.pendingLo = lo;
    this.pendingClass = countClass;
  }

  /** Writes the tables and header and closes the file. The caller renames it into place. */
  finish(): PwdxWriteSummary {
    try {
      if (this.hasPending) this.emit();
      this.hasPending = false;
      this.flush(true);
      const table = Buffer.alloc(bucketTableBytes(this.prefixBits));
      let start = 0;
      for (let b = 0; b < this.counts.length; b++) {
        table.writeUInt32LE(start, b * 4);
        start += this.counts[b] as number;
      }
      const crcBytes = Buffer.alloc(this.blocks * 4);
      for (let i = 0; i < this.blocks; i++) crcBytes.writeUInt32LE(this.blockCrcs[i] as number, i * 4);
      const tablesCrc = crc32(crcBytes, crc32(table));
      writeAll(this.fd, table, HEADER_BYTES);
      writeAll(this.fd, crcBytes, this.dataStart + this.dataWritten);
      const header = encodeHeader({
        version: PWDX_VERSION,
        prefixBits: this.prefixBits,
        keyBytes: this.keyBytes,
        entryCount: this.entries,
        blockBytes: this.blockBytes,
        tablesCrc,
        sourceTag: this.options.sourceTag ?? 0,
        minCount: this.options.minCount ?? 1,
        createdAt: this.options.now ?? Date.now(),
      });
      writeAll(this.fd, header, 0);
      fsyncSync(this.fd);
      return { entries: this.entries, duplicatesMerged: this.merged, fileBytes: this.dataStart + this.dataWritten + crcBytes.length, prefixBits: this.prefixBits };
    } finally {
      this.close();
    }
  }

  /** Closes without finishing (after an error); the caller deletes the file. */
  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }

  private emit(): void {
    if (this.entries >= MAX_ENTRIES) throw new Error(`a PWDX index holds at most ${MAX_ENTRIES} entries`);
    this.counts[this.pendingBucket]!++;
    this.entries++;
    const out = this.out;
    let p = this.outUsed;
    const key = this.pendingKey;
    // Big-endian key bytes, written by hand: this loop runs once per entry of a multi-billion-line import.
    const high = Math.floor(key / 2 ** (8 * (this.keyBytes - 4)));
    out[p++] = high >>> 24;
    out[p++] = (high >>> 16) & 255;
    out[p++] = (high >>> 8) & 255;
    out[p++] = high & 255;
    if (this.keyBytes > 4) {
      const low = key - high * 2 ** (8 * (this.keyBytes - 4));
      if (this.keyBytes === 6) out[p++] = low >>> 8;
      out[p++] = low & 255;
    }
    out[p++] = this.pendingClass;
    this.outUsed = p;
    if (p + this.entryBytes > out.length) this.flush(false);
  }

  /** Writes whole checksum blocks (and on the last call the partial one), recording each block's CRC. */
  private flush(final: boolean): void {
    const whole = Math.floor(this.outUsed / this.blockBytes) * this.blockBytes;
    const upto = final ? this.outUsed : whole;
    if (upto === 0) return;
    for (let off = 0; off < upto; off += this.blockBytes) {
      this.pushCrc(crc32(this.out.subarray(off, Math.min(upto, off + this.blockBytes))));
    }
    writeAll(this.fd, this.out.subarray(0, upto), this.dataStart + this.dataWritten);
    this.dataWritten += upto;
    this.out.copy(this.out, 0, upto, this.outUsed);
    this.outUsed -= upto;
  }

  private pushCrc(value: number): void {
    if (this.blocks === this.blockCrcs.length) {
      const grown = new Uint32Array(this.blockCrcs.length * 2);
      grown.set(this.blockCrcs);
      this.blockCrcs = grown;
    }
    this.blockCrcs[this.blocks++] = value;
  }
}

function writeAll(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

function hex(hi: number, lo: number): string {
  return `${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}`.toUpperCase();
}
