// Remembers for a moment that an (identifier, IP) pair is blocked or an IP is throttled, so that a flood of refused
// attempts is answered from memory: no SQL, no Redis, no page state and no event per attempt (ADR 0012).
import type { BlockReason } from './decision.js';

export interface Refusal {
  reason: BlockReason;
  /** When the block or throttle ends (null: until someone lifts it). */
  until: number | null;
}

export interface RefusalMemo {
  /** A refusal still remembered at `now` for this IP, this (identifier, IP) or this whole identifier; counts the repeat. */
  check(identifier: string, ipKey: string, now: number): Refusal | null;
  /**
   * Remembers a refusal the stores decided for `ipKey` (throttle) or for (identifier, ipKey) (`*` for the whole
   * identifier). Returns how many attempts were refused from memory since the last time, for the event it writes.
   */
  remember(key: { identifier?: string; ipKey: string }, refusal: Refusal, now: number): number;
  /** Forgets refusals that no longer hold (unblock, reset, refund); a missing identifier forgets the IP's throttle. */
  forget(key: { identifier?: string; ipKey?: string }): void;
}

interface Entry extends Refusal {
  /** The memory is trusted until then: the end of the refusal, or `maxAgeMs` after the stores said so. */
  trustUntil: number;
  repeats: number;
}

const pairKey = (identifier: string, ipKey: string): string => `p\n${identifier}\n${ipKey}`;
const ipOnlyKey = (ipKey: string): string => `i\n${ipKey}`;

/**
 * `maxAgeMs` bounds how long another node's unblock can go unseen here (this node's own unblocks are forgotten at
 * once); `maxEntries` bounds memory under an attack from many addresses (the oldest entries go first).
 */
export function createRefusalMemo(options: { maxAgeMs: number; maxEntries: number; onRefused?: (reason: BlockReason) => void }): RefusalMemo {
  const entries = new Map<string, Entry>();

  function hit(key: string, now: number): Refusal | null {
    const entry = entries.get(key);
    if (!entry || now >= entry.trustUntil) return null;
    entry.repeats++;
    options.onRefused?.(entry.reason);
    return { reason: entry.reason, until: entry.until };
  }

  return {
    check(identifier, ipKey, now) {
      if (entries.size === 0) return null;
      return hit(ipOnlyKey(ipKey), now) ?? hit(pairKey(identifier, ipKey), now) ?? hit(pairKey(identifier, '*'), now);
    },
    remember(key, refusal, now) {
      const id = key.identifier === undefined ? ipOnlyKey(key.ipKey) : pairKey(key.identifier, key.ipKey);
      const previous = entries.get(id);
      entries.delete(id);
      // A millisecond short of the end: `until` is rounded up, and at the boundary the stores must decide, not memory.
      entries.set(id, { ...refusal, trustUntil: Math.min((refusal.until ?? Number.POSITIVE_INFINITY) - 1, now + options.maxAgeMs), repeats: 0 });
      while (entries.size > options.maxEntries) entries.delete(entries.keys().next().value as string);
      return previous?.repeats ?? 0;
    },
    forget(key) {
      if (key.identifier === undefined) {
        if (key.ipKey !== undefined) entries.delete(ipOnlyKey(key.ipKey));
        return;
      }
      if (key.ipKey !== undefined) {
        entries.delete(pairKey(key.identifier, key.ipKey));
        return;
      }
      const prefix = `p\n${key.identifier}\n`;
      for (const id of entries.keys()) if (id.startsWith(prefix)) entries.delete(id);
    },
  };
}
