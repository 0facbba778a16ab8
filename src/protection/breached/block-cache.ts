// A bounded in-process cache of bucket byte ranges read from one open PWDX file, so a repeated ("warm") lookup
// skips the positioned read (a syscall costs microseconds; a cached lookup about one, mostly memory latency).
//
// Layout: one arena of at most the byte budget, used as a ring. Each cached bucket is one record: an 8-byte
// header (bucket number; length, whose top two bits count uses, saturating at 3) followed by the bucket's bytes
// exactly as read from the file. New records are written at the write position; to make room, a sweep ahead of
// it (generalized CLOCK, close to LRU) forgets records with no uses left and packs the others down behind the
// write position with one use taken off: a bucket hit often survives several passes, one hit once survives one.
// When the budget holds the whole index, every bucket is cached once and nothing is ever forgotten.
//
// Admission: while there is free room every bucket read is cached. Once the cache is full, a bucket is only
// cached on its second miss within a short window (a "doorkeeper" bit set), so lookups spread evenly over an
// index larger than the cache do not churn it (each eviction writes ~1 KiB to cold memory, costing more than the
// read it would save), while buckets in repeated use still get in and then stay (CLOCK).
//
// Besides the arena there is a Map from bucket number to location and the doorkeeper bits (at most 16 KiB): no
// per-entry objects. Entries leave the Map one or two per insertion, never in bulk (V8 Maps slow down about
// tenfold under bulk deletion).
//
// One cache belongs to one open index, whose file never changes while it is open (a new index is a new file
// renamed over the path, opened as a new index with its own empty cache). There is no module-level state.
import { constants } from 'node:buffer';

/** The default byte budget: 32 MiB. */
export const DEFAULT_BLOCK_CACHE_BYTES = 32 * 1024 * 1024;
const HEADER = 8;
const USES_SHIFT = 30;
const LENGTH_MASK = (1 << USES_SHIFT) - 1;
/** One use, in the top byte of the little-endian length word. */
const USE = 0x40;
const DOORKEEPER_BITS = 1 << 17;

export interface BlockCacheStats {
  /** The configured budget; the arena never exceeds it (nor 4 GiB, the largest Buffer). */
  budgetBytes: number;
  /** Size of the arena once the first bucket was cached (0 before, and after clear()). Pages are touched as filled. */
  allocatedBytes: number;
  /** Bucket bytes held (without the 8-byte headers). */
  cachedBytes: number;
  /** Buckets held. */
  buckets: number;
  hits: number;
  misses: number;
  /** Buckets forgotten to make room. */
  evictions: number;
  /** Misses not cached because the cache was full and the bucket was not missed recently (the doorkeeper). */
  notAdmitted: number;
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
  /** The arena size: the budget, or less when the whole index fits in less. 0: the cache is off. */
  readonly arenaBytes: number;
  private arena: Buffer | null = null;
  /** bucket → offset of its bytes in the arena. */
  private readonly where = new Map<number, number>();
  /** Next record goes here. */
  private write = 0;
  /** The sweep: records of the previous lap lie in [sweep, limit); [write, sweep) is free. */
  private sweep = 0;
  private limit = 0;
  private cached = 0;
  private hitCount = 0;
  private missCount = 0;
  private evictionCount = 0;
  private notAdmittedCount = 0;
  /** Buckets missed while the cache was full, in the current window (hashed to DOORKEEPER_BITS bits). */
  private readonly seen: Uint8Array;
  private readonly seenMask: number;
  private readonly window: number;
  private seenCount = 0;

  /** A budget of 0 (or one too small for the largest bucket) disables the cache: every lookup reads the file. */
  constructor(budgetBytes: number, shape: BlockCacheShape) {
    if (!(budgetBytes >= 0) || !Number.isFinite(budgetBytes)) throw new RangeError(`block cache budget must be a finite number of bytes >= 0, got ${budgetBytes}`);
    this.budgetBytes = Math.floor(budgetBytes);
    const maxRecord = HEADER + Math.max(1, shape.maxRangeBytes);
    const everything = shape.dataBytes + HEADER * shape.buckets;
    // One Buffer cannot exceed constants.MAX_LENGTH (4 GiB on 64-bit Node 20), so neither can the arena.
    const arena = Math.min(this.budgetBytes, everything + maxRecord, constants.MAX_LENGTH);
    this.arenaBytes = arena >= maxRecord ? arena : 0;
    // The window: an eighth of the buckets the arena holds (or of all buckets, if fewer), in misses. A bucket
    // spread-out lookups reach at random is rarely missed twice in it; one in repeated use is.
    const perRecord = HEADER + Math.max(1, shape.dataBytes / Math.max(1, shape.buckets));
    this.window = Math.max(16, Math.floor(Math.min(this.arenaBytes / perRecord, shape.buckets) / 8));
    const bits = Math.min(DOORKEEPER_BITS, 2 ** Math.ceil(Math.log2(Math.max(8, shape.buckets))));
    this.seen = new Uint8Array(this.arenaBytes > 0 ? bits / 8 : 0);
    this.seenMask = bits - 1;
  }

  get enabled(): boolean {
    return this.arenaBytes > 0;
  }

  /** The offset of a cached bucket's bytes in buffer(), or -1. */
  get(bucket: number): number {
    const at = this.where.get(bucket);
    if (at === undefined) {
      this.missCount++;
      return -1;
    }
    this.hitCount++;
    const arena = this.arena as Buffer;
    const top = arena[at - 1] as number; // the top byte of the little-endian length word
    if (top < 3 * USE) arena[at - 1] = top + USE;
    return at;
  }

  /** The arena that get() and reserve() offsets point into (valid until the next reserve()). */
  buffer(): Buffer {
    return this.arena as Buffer;
  }

  /**
   * Room for `len` bytes of a bucket not in the cache: the offset to fill in buffer(), then commit(); or -1 when
   * the range is not to be cached (too large, or not admitted). A reservation not committed is reused by the next.
   */
  reserve(bucket: number, len: number): number {
    const need = HEADER + len;
    if (need > this.arenaBytes) return -1;
    if (!this.arena) this.arena = Buffer.allocUnsafeSlow(this.arenaBytes);
    const fits = this.sweep >= this.limit ? this.arenaBytes - this.write >= need : this.sweep - this.write >= need;
    if (!fits && !this.admit(bucket)) {
      this.notAdmittedCount++;
      return -1;
    }
    for (;;) {
      if (this.sweep >= this.limit) {
        // Nothing of the previous lap ahead: the rest of the arena is free. Wrap when it is too short.
        if (this.arenaBytes - this.write >= need) return this.write + HEADER;
        this.limit = this.write;
        this.write = 0;
        this.sweep = 0;
        continue;
      }
      if (this.sweep - this.write >= need) return this.write + HEADER;
      this.pass();
    }
  }

  /** Records the reserved range, now filled, as the bytes of `bucket`. */
  commit(bucket: number, at: number, len: number): void {
    const arena = this.arena as Buffer;
    arena.writeUInt32LE(bucket, at - HEADER);
    arena.writeUInt32LE(len, at - 4);
    this.write = at + len;
    if (this.sweep < this.write) this.sweep = this.write;
    this.where.set(bucket, at);
    this.cached += len;
  }

  stats(): BlockCacheStats {
    return {
      budgetBytes: this.budgetBytes,
      allocatedBytes: this.arena ? this.arenaBytes : 0,
      cachedBytes: this.cached,
      buckets: this.where.size,
      hits: this.hitCount,
      misses: this.missCount,
      evictions: this.evictionCount,
      notAdmitted: this.notAdmittedCount,
    };
  }

  /** Forgets everything and releases the arena. */
  clear(): void {
    this.where.clear();
    this.arena = null;
    this.write = 0;
    this.sweep = 0;
    this.limit = 0;
    this.cached = 0;
    this.seen.fill(0);
    this.seenCount = 0;
  }

  /** The doorkeeper: true on a bucket's second miss within the window; the window restarts every `window` misses. */
  private admit(bucket: number): boolean {
    const bit = bucket & this.seenMask;
    const mask = 1 << (bit & 7);
    if ((this.seen[bit >>> 3] as number) & mask) return true;
    this.seen[bit >>> 3] = (this.seen[bit >>> 3] as number) | mask;
    if (++this.seenCount >= this.window) {
      this.seen.fill(0);
      this.seenCount = 0;
    }
    return false;
  }

  /** Passes the record at the sweep: one with uses left is packed down to the write position with one use less; others go. */
  private pass(): void {
    const arena = this.arena as Buffer;
    const at = this.sweep;
    const bucket = arena.readUInt32LE(at);
    const word = arena.readUInt32LE(at + 4);
    const len = word & LENGTH_MASK;
    const uses = word >>> USES_SHIFT;
    this.sweep = at + HEADER + len;
    if (this.where.get(bucket) !== at + HEADER) return; // not the current copy (defensive: there is only one)
    if (uses > 0) {
      if (this.write !== at) arena.copy(arena, this.write, at, at + HEADER + len);
      arena.writeUInt32LE((uses - 1) * 2 ** USES_SHIFT + len, this.write + 4);
      this.where.set(bucket, this.write + HEADER);
      this.write += HEADER + len;
    } else {
      this.where.delete(bucket);
      this.cached -= len;
      this.evictionCount++;
    }
  }
}
