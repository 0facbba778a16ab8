// A small LRU cache whose entries also expire after a TTL; one per checker instance, with an injected clock.
export interface TtlLruCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  readonly size: number;
}

export function createTtlLruCache<V>(options: { maxEntries: number; ttlMs: number; now?: () => number }): TtlLruCache<V> {
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order, so re-inserting on every hit keeps the least recently used entry first.
  const entries = new Map<string, { value: V; expires: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      if (entry.expires <= now()) return undefined;
      entries.set(key, entry);
      return entry.value;
    },
    set(key, value) {
      if (options.maxEntries <= 0 || options.ttlMs <= 0) return;
      entries.delete(key);
      entries.set(key, { value, expires: now() + options.ttlMs });
      while (entries.size > options.maxEntries) entries.delete(entries.keys().next().value as string);
    },
    get size() {
      return entries.size;
    },
  };
}
