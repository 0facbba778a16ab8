// Holds the open PWDX index at a path and swaps in a new one when the file is replaced (import renames over it).
import { statSync } from 'node:fs';
import { openPwdxIndex, type OpenPwdxOptions, type PwdxIndex } from './pwdx-index.js';

export interface IndexHolder {
  /** The index in use, after a cheap change check at most every checkIntervalMs; null when there is no file. */
  current(): PwdxIndex | null;
  /** Checks the file now; returns true when a different index (or none) is in use afterwards. */
  reload(): boolean;
  /** The problem with the newest file when it could not be opened (the previous index stays in use). */
  readonly lastError: Error | null;
  close(): void;
}

export interface IndexHolderOptions extends OpenPwdxOptions {
  /** How often current() may stat the file (default 5 s). */
  checkIntervalMs?: number;
  now?: () => number;
}

/** Opens the file now when it exists; a corrupt file here throws, so a bad index fails loudly at start. */
export function createIndexHolder(path: string, options: IndexHolderOptions = {}): IndexHolder {
  const interval = options.checkIntervalMs ?? 5000;
  const now = options.now ?? Date.now;
  let index: PwdxIndex | null = null;
  let identity: string | null = null;
  let failedIdentity: string | null = null;
  let lastError: Error | null = null;
  let lastCheck = -Infinity;

  // dev + inode + size + mtime: a rename over the path always changes the inode, a rewrite in place the mtime.
  const identify = (): string | null => {
    try {
      const s = statSync(path, { bigint: true });
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };

  const check = (throwOnError: boolean): boolean => {
    lastCheck = now();
    const seen = identify();
    if (seen === identity || (seen !== null && seen === failedIdentity)) return false;
    if (seen === null) {
      index?.close();
      index = null;
      identity = null;
      return true;
    }
    let next: PwdxIndex;
    try {
      next = openPwdxIndex(path, options);
    } catch (error) {
      // Keep answering from the previous index; retry only when the file changes again.
      failedIdentity = seen;
      lastError = error as Error;
      if (throwOnError) throw error;
      return false;
    }
    const previous = index;
    index = next;
    identity = seen;
    failedIdentity = null;
    lastError = null;
    previous?.close(); // lookups are synchronous, so none can be in flight on it
    return true;
  };

  const reload = (): boolean => check(false);
  check(true);

  return {
    current() {
      if (now() - lastCheck >= interval) reload();
      return index;
    },
    reload,
    get lastError() {
      return lastError;
    },
    close() {
      index?.close();
      index = null;
      identity = null;
    },
  };
}
