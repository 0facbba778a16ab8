// Answers "is this password known to attackers?" from the test prefix, the offline indexes, and optionally HIBP online.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openCommonIndex } from './common-index.js';
import { createHibpRangeClient, HibpUnavailableError, type HibpRangeClientOptions } from './hibp-range-client.js';
import { createIndexHolder, type IndexHolder } from './index-holder.js';
import { countClassOf } from './pwdx-format.js';
import type { PwdxIndex } from './pwdx-index.js';

export type BreachVerdict =
  | { breached: false; source: 'offline' | 'online' | 'none' }
  | { breached: true; source: 'offline' | 'online' | 'test_prefix'; countClass: number | null }
  | { breached: false; source: 'online'; unavailable: true } // fail-open when the online API failed
  | { breached: true; source: 'online'; unavailable: true; countClass: null }; // fail-closed

export interface BreachChecker {
  check(password: string): Promise<BreachVerdict>;
  close(): void;
}

export interface BreachCheckerOptions {
  mode: 'offline' | 'online' | 'off';
  dataDir: string;
  /** The operator's imported index; default <dataDir>/breach/pwned.pwdx. An explicit path must exist. */
  indexPath?: string;
  /** Entries with a lower count class do not count as breached (entries without a count always do). */
  minCountClass?: number;
  /** Any password starting with this (when non-empty) is reported breached, so operators can try the flow. */
  testPrefix?: string;
  online?: Omit<HibpRangeClientOptions, 'now'> & { failMode?: 'open' | 'closed' };
  /** Also check the bundled common-password list (default true). */
  commonList?: boolean;
  /** How often the imported index file is checked for replacement (default 5 s). */
  reloadIntervalMs?: number;
  /** Byte budget of the imported index's in-process block cache (default 32 MiB; 0 turns it off). */
  blockCacheBytes?: number;
  now?: () => number;
  /** Told when the online API fails (for logging); never given the password or its hash. */
  onOnlineError?: (error: HibpUnavailableError) => void;
}

export function pwnedIndexPath(dataDir: string, indexPath?: string): string {
  return indexPath ? indexPath : join(dataDir, 'breach', 'pwned.pwdx');
}

export function createBreachChecker(options: BreachCheckerOptions): BreachChecker {
  const testPrefix = options.testPrefix ?? '';
  const minClass = options.minCountClass ?? 0;
  if (options.mode === 'off') {
    return {
      check: async (password) => (testPrefix && password.startsWith(testPrefix) ? { breached: true, source: 'test_prefix', countClass: null } : { breached: false, source: 'none' }),
      close: () => undefined,
    };
  }
  if (options.indexPath && !existsSync(options.indexPath)) {
    throw new Error(`breach.indexPath ${options.indexPath} does not exist; build it with \`portcullis breach import FILE\` or clear the setting`);
  }
  const pwned: IndexHolder = createIndexHolder(pwnedIndexPath(options.dataDir, options.indexPath), { checkIntervalMs: options.reloadIntervalMs, now: options.now, cacheBytes: options.blockCacheBytes });
  let common: PwdxIndex | null = null;
  try {
    common = options.commonList === false ? null : openCommonIndex(options.dataDir);
  } catch (error) {
    pwned.close();
    throw error;
  }
  const failClosed = options.online?.failMode === 'closed';
  const online = options.mode === 'online' ? createHibpRangeClient({ ...options.online, now: options.now }) : null;

  /** Local lookups first: they cost microseconds and send nothing anywhere. */
  const checkOffline = (digest: Buffer): BreachVerdict | null => {
    const hit = pwned.current()?.lookup(digest);
    if (hit && (hit.countClass === 0 || hit.countClass >= minClass)) return { breached: true, source: 'offline', countClass: hit.countClass || null };
    if (common?.lookup(digest)) return { breached: true, source: 'offline', countClass: null };
    return null;
  };

  return {
    async check(password) {
      if (testPrefix && password.startsWith(testPrefix)) return { breached: true, source: 'test_prefix', countClass: null };
      const digest = createHash('sha1').update(password, 'utf8').digest();
      const local = checkOffline(digest);
      if (local) return local;
      if (!online) return { breached: false, source: 'offline' };
      try {
        const hit = await online.lookup(digest.toString('hex'));
        if (hit && countClassOf(hit.count) >= minClass) return { breached: true, source: 'online', countClass: countClassOf(hit.count) };
        return { breached: false, source: 'online' };
      } catch (error) {
        if (!(error instanceof HibpUnavailableError)) throw error;
        options.onOnlineError?.(error);
        return failClosed ? { breached: true, source: 'online', unavailable: true, countClass: null } : { breached: false, source: 'online', unavailable: true };
      }
    },
    close() {
      pwned.close();
      common?.close();
    },
  };
}
