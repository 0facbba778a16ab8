// A bounded in-process cache of bucket byte ranges read from one open PWDX file, so a repeated ("warm") lookup
// skips the positioned read (a syscall costs microseconds; a cached lookup well under one).
//
// Layout: the byte budget is split into equal segments, allocated on first use and filled in order like a log.
// Each cached bucket is one record, an 8-byte header (bucket, length) followed by the bucket's bytes exactly as
// read from the file. When the segment being filled is full, the oldest segment is recycled: the records in it
// are forgotten and it is filled again. A hit on a record in the older half of the segments copies the record
// forward, so buckets in steady use stay cached (close to LRU without per-entry bookkeeping). Memory is the
// segments plus a Map from bucket number to location: no per-entry Buffer objects, nothing retained past clear().
//
// One cache belongs to one open index (one file, whose bytes never change while open: a new index file is a new
// file renamed over the path, opened as a new index with a new cache). There is no module-level state.

/** The default byte budget: about 32 MiB. */
export const DEFAULT_BLOCK_CACHE_BYTES = 32 * 1024 * 1024;
const HEADER = 8;
const MAX_SEGMENT_BYTES = 1024 * 1024;
const MIN_SEGMENTS = 8;

export interface BlockCacheStats {
  /** The configured budget; the segments allocated never exceed it. */
  budgetBytes: number;
  /** Bytes of segments allocated so far (segments are allocated when first filled). */
  allocatedBytes: number;
  /** Bucket bytes currently reachable through the cache (without headers, dead copies or unused segment tails). */
  cachedBytes: number;
  /** Buckets currently cached. */
  buckets: number;
  hits: number;
  misses: number;
  /** Buckets forgotten because their segment was recycled. */
  evictions: number;
}

export class BlockCache {
  readonly budgetBytes: number;
  readonly segmentBytes: number;
  readonly segmentCount: number;
  private readonly segments: (Buffer | undefined)[];
  private readonly fill: Int32Array;
  /** The sequence number each segment was (re)started at, to tell old segments from young ones. */
  private readonly startedAt: Float64Array;
  /** bucket → location of its bytes: segment × segmentBytes + offset of the data within the segment. */
  private readonly where = new Map<number, number>();
  private readonly carry: Buffer;
  private current = 0;
  private sequence = 0;
  private allocated = 0;
  private cached = 0;
  private hitCount = 0;
  private missCount = 0;
  private evictionCount = 0;

  /**
   * @param budgetBytes the most memory the segments may take (0 disables the cache)
   * @param maxRangeBytes the largest range that will be offered (the largest bucket)
   * @param usefulBytes what caching everything would take (the data size): a small index gets a small cache
   */
  constructor(budgetBytes: number, maxRangeBytes: number, usefulBytes = Number.POSITIVE_INFINITY) {
    if (!(budgetBytes >= 0) || !Number.isFinite(budgetBytes)) throw new RangeError(`block cache budget must be a finite number of bytes >= 0, got ${budgetBytes}`);
    this.budgetBytes = Math.floor(budgetBytes);
    const maxRecord = HEADER + Math.max(1, maxRangeBytes);
    // Headers and the unusable tail of each segment cost a little over the data itself.
    const wanted = Math.min(this.budgetBytes, Math.ceil(usefulBytes * 1.1) + MIN_SEGMENTS * maxRecord);
    this.segmentBytes = Math.max(maxRecord, Math.min(MAX_SEGMENT_BYTES, Math.floor(wanted / MIN_SEGMENTS)));
    this.segmentCount = Math.floor(Math.min(wanted, this.budgetBytes) / this.segmentBytes);
    this.segments = new Array<Buffer | undefined>(this.segmentCount).fill(undefined);
    this.fill = new Int32Array(this.segmentCount);
    this.startedAt = new Float64Array(this.segmentCount);
    this.carry = Buffer.alloc(this.segmentCount > 0 ? maxRecord : 0);
  }

  /** False when the budget cannot hold even one segment: every lookup reads from the file. */
  get enabled(): boolean {
    return this.segmentCount > 0;
  }

  /** The location of a cached bucket's bytes, or -1. A hit on an old record moves it forward. */
  get(bucket: number): number {
    const at = this.where.get(bucket);
    if (at === undefined) {
      this.missCount++;
      return -1;
    }
    this.hitCount++;
    const segment = Math.floor(at / this.segmentBytes);
    if (2 * (this.sequence - (this.startedAt[segment] as number)) < this.segmentCount) return at;
    // Old: copy forward before its segment is recycled. Copy out first, since making room may recycle its segment.
    const from = this.segments[segment] as Buffer;
    const offset = at - segment * this.segmentBytes;
    const len = from.readUInt32LE(offset - 4);
    from.copy(this.carry, 0, offset, offset + len);
    const to = this.reserve(len);
    this.carry.copy(this.bufferAt(to), this.offsetAt(to), 0, len);
    // Making room may have recycled the old copy's segment (then the bytes count as cached afresh).
    this.commit(bucket, to, len, this.where.get(bucket) !== at);
    return to;
  }

  /**
   * Room for `len` bytes of a bucket, or -1 when the range cannot be cached. Fill it (bufferAt/offsetAt), then
   * commit(); an uncommitted reservation is simply reused by the next one.
   */
  reserve(len: number): number {
    if (!this.enabled || HEADER + len > this.segmentBytes) return -1;
    if ((this.fill[this.current] as number) + HEADER + len > this.segmentBytes) this.advance();
    let buf = this.segments[this.current];
    if (!buf) {
      buf = Buffer.allocUnsafeSlow(this.segmentBytes);
      this.segments[this.current] = buf;
      this.allocated += this.segmentBytes;
    }
    return this.current * this.segmentBytes + (this.fill[this.current] as number) + HEADER;
  }

  /** Records the reserved range as the bytes of `bucket`. */
  commit(bucket: number, at: number, len: number, fresh = true): void {
    const segment = Math.floor(at / this.segmentBytes);
    const offset = at - segment * this.segmentBytes;
    const buf = this.segments[segment] as Buffer;
    buf.writeUInt32LE(bucket, offset - HEADER);
    buf.writeUInt32LE(len, offset - 4);
    this.fill[segment] = offset + len;
    this.where.set(bucket, at);
    if (fresh) this.cached += len;
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
    this.startedAt.fill(0);
    this.current = 0;
    this.sequence = 0;
    this.allocated = 0;
    this.cached = 0;
  }

  /** Moves to the next segment, forgetting the records in it (the oldest). */
  private advance(): void {
    this.current = (this.current + 1) % this.segmentCount;
    const buf = this.segments[this.current];
    const used = this.fill[this.current] as number;
    const base = this.current * this.segmentBytes;
    for (let offset = 0; buf && offset < used; ) {
      const bucket = buf.readUInt32LE(offset);
      const len = buf.readUInt32LE(offset + 4);
      // A record copied forward since lives elsewhere now; only the current copy counts.
      if (this.where.get(bucket) === base + offset + HEADER) {
        this.where.delete(bucket);
        this.cached -= len;
        this.evictionCount++;
      }
      offset += HEADER + len;
    }
    this.fill[this.current] = 0;
    this.startedAt[this.current] = ++this.sequence;
  }
}
