/**
 * A set that remembers only its last `capacity` keys (oldest evicted first). Used to skip
 * redelivered events (at-least-once delivery) without remembering every event forever.
 */
export interface RecentSet {
  /** Adds `key`; returns false when it was already present. */
  add(key: string): boolean;
  readonly size: number;
}

/** Creates a {@link RecentSet} holding at most `capacity` keys. */
export function createRecentSet(capacity: number): RecentSet {
  const keys = new Set<string>();
  return {
    add(key) {
      if (keys.has(key)) return false;
      keys.add(key);
      if (keys.size > capacity) {
        // Sets iterate in insertion order: the first key is the oldest.
        const oldest = keys.values().next().value as string;
        keys.delete(oldest);
      }
      return true;
    },
    get size() {
      return keys.size;
    },
  };
}
