// A bounded in-process cache of bucket byte ranges read from one open PWDX file, so a repeated ("warm") lookup
// skips the positioned read (a syscall costs microseconds; a cached lookup well under one).
//
// Layout: the byte budget is split into equal segments, allocated on first use and filled in order like a log.
// Each cached bucket is one record: an 8-byte header (bucket number; length, whose top bit marks "used since
// cached") followed by the bucket's bytes exactly as read from the file. When the segment being filled is full,
// the next one round the ring is recycled (CLOCK at segment granularity, close to LRU): records used since they
// were cached get a second chance and are packed to the front of it, with the mark cleared, up to half of the
// segment; the rest are forgotten. When the budget can hold the whole index, every bucket is cached once and
// nothing is ever evicted. Memory is the segments plus a Map from bucket number to location; no per-entry objects.
//
// One cache belongs to one open index, whose file never changes while it is open (a new index is a new file
// renamed over the path, opened as a new index with its own empty cache). There is no module-level state.

/** The default byte budget: 32 MiB. */
export const DEFAULT_BLOCK_CACHE_BYTES = 32 * 1024 * 1024;
const HEADER = 8;
const USED = 0x8000_0000;
const MAX_SEGMENT_BYTES = 1024 * 1024;
const MIN_SEGMENTS = 8;

export interface BlockCacheStats {
  /** The configured budget; the segments allocated never exceed it. */
  budgetBytes: number;
  /** Bytes of segments allocated so far (segments are allocated when first filled). */
  allocatedBytes: number;
  /** Bucket bytes held (without the 8-byte headers and unused segment tails). */
  cachedBytes: number;
  /** Buckets held. */
  buckets: number;
  hits: number;
  misses: number;
  /** Buckets forgotten to make room. */
  evictions: number;
}

export interface BlockCacheShape {
  /** The largest range that will be offered (the largest bucket), in bytes. */
  maxRangeBytes: number;
  /** The data bytes and the number of non-empty buckets: what caching everything would take. */
  dataBytes: number;
  buckets: number;
}

export class BlockCache {
  readonly budgetBytes: number;
  readonly segmentBytes: number;
  readonly segmentCount: number;
  private readonly keepBytes: number;
  private readonly segments: (Buffer | undefined)[];
  private readonly fill: Int32Array;
  /** bucket → location of its bytes: segment × segmentBytes + offset of the data within the segment. */
  private readonly where = new Map<number, number>();
  private current = 0;
  private allocated = 0;
  private cached = 0;
  private hitCount = 0;
  private missCount = 0;
  private evictionCount = 0;

  /** A budget of 0 (or one too small for a single segment) disables the cache: every lookup reads the file. */
  constructor(budgetBytes: number, shape: BlockCacheShape) {
    if (!(budgetBytes >= 0) || !Number.isFinite(budgetBytes)) throw new RangeError(`block cache budget must be a finite number of bytes >= 0, got ${budgetBytes}`);
    this.budgetBytes = Math.floor(budgetBytes);
    const maxRecord = HEADER + Math.max(1, shape.maxRangeBytes);
    // At least MIN_SEGMENTS segments when the budget allows, so a recycle drops a small part of the cache; and small
    // segments for a small index, so caching all of it allocates little more than its data.
    const everything = shape.dataBytes + HEADER * shape.buckets;
    const wanted = Math.min(MAX_SEGMENT_BYTES, Math.ceil(everything / MIN_SEGMENTS) + maxRecord, Math.floor(this.budgetBytes / MIN_SEGMENTS));
    this.segmentBytes = Math.max(maxRecord, wanted);
    this.segmentCount = Math.floor(this.budgetBytes / this.segmentBytes);
    // Second-chance survivors take at most half a segment and always leave room for one more record.
    this.keepBytes = Math.max(0, Math.min(Math.floor(this.segmentBytes / 2), this.segmentBytes - maxRecord));
    this.segments = new Array<Buffer | undefined>(this.segmentCount).fill(undefined);
    this.fill = new Int32Array(this.segmentCount);
  }

  get enabled(): boolean {
    return this.segmentCount > 0;
  }

  /** The location of a cached bucket's bytes (see bufferAt/offsetAt), or -1. */
  get(bucket: number): number {
    const at = this.where.get(bucket);
    if (at === undefined) {
      this.missCount++;
      return -1;
    }
    this.hitCount++;
    const buf = this.segments[Math.floor(at / this.segmentBytes)] as Buffer;
    const mark = (at % this.segmentBytes) - 1; // the top byte of the little-endian length
    buf[mark] = (buf[mark] as number) | 0x80;
    return at;
  }

  /**
   * Room for `len` bytes of a bucket not in the cache, or -1 when the range cannot be cached. Fill it
   * (bufferAt/offsetAt), then commit(); a reservation that is not committed is reused by the next one.
   */
  reserve(len: number): number {
    if (!this.enabled || HEADER + len > this.segmentBytes) return -1;
    if ((this.fill[this.current] as number) + HEADER + len > this.segmentBytes) this.advance();
    if (!this.segments[this.current]) {
      this.segments[this.current] = Buffer.allocUnsafeSlow(this.segmentBytes);
      this.allocated += this.segmentBytes;
    }
    return this.current * this.segmentBytes + (this.fill[this.current] as number) + HEADER;
  }

  /** Records the reserved range, now filled, as the bytes of `bucket`. */
  commit(bucket: number, at: number, len: number): void {
    const buf = this.segments[this.current] as Buffer;
    const offset = at - this.current * this.segmentBytes;
    buf.writeUInt32LE(bucket, offset - HEADER);
    buf.writeUInt32LE(len, offset - 4);
    this.fill[this.current] = offset + len;
    this.where.set(bucket, at);
    this.cached += len;
  }

  bufferAt(at: number): Buffer {
    return this.segments[Math.floor(at / this.segmentBytes)] as Buffer;
  }

  offsetAt(at: number): number {
    return at % this.segmentBytes;
  }

  stats(): BlockCacheStats {
    return {
      budgetBytes: this.budgetBytes,
      allocatedBytes: this.allocated,
      cachedBytes: this.cached,
      buckets: this.where.size,
      hits: this.hitCount,
      misses: this.missCount,
      evictions: this.evictionCount,
    };
  }

  /** Forgets everything and releases the segments. */
  clear(): void {
    this.where.clear();
    this.segments.fill(undefined);
    this.fill.fill(0);
    this.current = 0;
    this.allocated = 0;
    this.cached = 0;
  }

  /** Moves to the next segment round the ring and makes room in it: used records are kept (packed), others forgotten. */
  private advance(): void {
    this.current = (this.current + 1) % this.segmentCount;
    const buf = this.segments[this.current];
    const used = this.fill[this.current] as number;
    const base = this.current * this.segmentBytes;
    let kept = 0;
    for (let offset = 0; buf && offset < used; ) {
      const bucket = buf.readUInt32LE(offset);
      const word = buf.readUInt32LE(offset + 4);
      const len = (word & ~USED) >>> 0;
      if (this.where.get(bucket) === base + offset + HEADER) {
        if (word & USED && kept + HEADER + len <= this.keepBytes) {
          if (kept !== offset) buf.copy(buf, kept, offset, offset + HEADER + len);
          buf.writeUInt32LE(len, kept + 4);
          this.where.set(bucket, base + kept + HEADER);
          kept += HEADER + len;
        } else {
          this.where.delete(bucket);
          this.cached -= len;
          this.evictionCount++;
        }
      }
      offset += HEADER + len;
    }
    this.fill[this.current] = kept;
  }
}
