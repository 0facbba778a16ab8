// Answers "is this IP on a reputation list" from the stored lists plus operator files, reloading either when it changes.
import { every, singleFlight } from '../../domain/background-refresh.js';
import type { IpListStore } from '../../store/store.js';
import { listFileSet, type ListFile } from './list-files.js';
import { buildRangeIndex, type RangeIndex } from './range-index.js';

export interface IpListMatch {
  list: string;
  cidr: string;
}

export interface IpReputation {
  /** The most specific listed block holding `ip`, from the last completed load. Never waits on I/O. */
  lookup(ip: string): IpListMatch | null;
  /** Rebuilds from the store and every file now. */
  reload(): Promise<void>;
  /** Rebuilds only if the store's revision or a file changed; returns whether it did. Concurrent calls share one check. */
  refresh(): Promise<boolean>;
  /** Blocks currently indexed (store and files together). */
  size(): number;
  /** Stops the poll timer. */
  close(): void;
}

export interface IpReputationOptions {
  store: IpListStore;
  files?: readonly ListFile[];
  /** Poll for changes this often; 0 disables the timer (callers then use refresh()). */
  pollIntervalMs?: number;
  /** Unreadable files, invalid lines, failed polls. The matcher keeps serving its last good data meanwhile. */
  onWarning?: (message: string) => void;
}

/** Loads once, then serves lookups from memory; with `pollIntervalMs` it notices new imports and edited files on its own. */
export async function openIpReputation(options: IpReputationOptions): Promise<IpReputation> {
  const warn = options.onWarning ?? (() => undefined);
  const files = listFileSet(options.files ?? [], warn);
  let index: RangeIndex<string> = buildRangeIndex<string>([]);
  let loadedRevision: string | null = null;

  async function rebuild(): Promise<void> {
    const revision = await options.store.revision();
    const stored = await options.store.list();
    const fromFiles = await files.load();
    const entries = [
      ...stored.map((e) => ({ cidr: e.cidr, value: e.list })),
      ...fromFiles.flatMap((f) => f.entries.map((e) => ({ cidr: e.cidr, value: f.name }))),
    ];
    index = buildRangeIndex(entries);
    loadedRevision = revision;
  }

  async function check(): Promise<boolean> {
    const storeChanged = (await options.store.revision()) !== loadedRevision;
    if (!storeChanged && !(await files.changed())) return false;
    await rebuild();
    return true;
  }

  const refresh = singleFlight(check);

  await rebuild();
  const stop = every(options.pollIntervalMs ?? 0, refresh, (error) => warn(`IP lists could not be reloaded, still serving the previous data: ${(error as Error).message}`));

  return {
    lookup(ip) {
      const found = index.find(ip);
      return found ? { list: found.value, cidr: found.cidr } : null;
    },
    async reload() {
      await rebuild();
    },
    refresh,
    size: () => index.size,
    close: stop,
  };
}
