// Get-or-compute with a bound: at most `limit` results are kept, the oldest computed dropped first. One per owner
// (a store, a guard, a route plugin), never module-level. For values that never go stale (prepared statements,
// parsed user agents, rendered pages); the refusal memory and the client cache have their own expiry rules.
export interface BoundedMemo<V> {
  get(key: string, compute: () => V): V;
  clear(): void;
}

export function boundedMemo<V>(limit: number): BoundedMemo<V> {
  const values = new Map<string, V>();
  return {
    get(key, compute) {
      if (values.has(key)) return values.get(key) as V;
      const value = compute();
      values.set(key, value);
      if (values.size > limit) values.delete(values.keys().next().value as string);
      return value;
    },
    clear() {
      values.clear();
    },
  };
}
