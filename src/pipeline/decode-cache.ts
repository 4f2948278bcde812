import type { JobscopeEvent } from '../events/index.js';

/**
 * Decoded events shared by the sink loops of one pipeline process. Every sink's group reads
 * the same stream entries, and decoding (JSON parse + schema validation) is the largest CPU
 * cost of the pipeline itself: with N sinks, an entry decoded by the first loop is reused by
 * the other N − 1 while they are within `maxEntries` entries of each other. A loop further
 * behind simply decodes again. Events are shared, so sinks must not mutate the events they
 * are given (none does: the scrubber copies).
 *
 * Bounded: at most `maxEntries` events, the oldest inserted evicted first (counted).
 */

/** Options of {@link createDecodeCache}. */
export interface DecodeCacheOptions {
  /** Events kept. Default 1000 (five batches of 200, ~2 MB at 2 KB per event). */
  maxEntries?: number;
}

/** Counters of a {@link DecodeCache}. */
export interface DecodeCacheStats {
  hits: number;
  misses: number;
  /** Events evicted to stay within `maxEntries`. */
  evicted: number;
  size: number;
}

/** A bounded stream-entry → decoded-event cache. */
export interface DecodeCache {
  get(stream: string, id: string): JobscopeEvent | undefined;
  set(stream: string, id: string, event: JobscopeEvent): void;
  stats(): DecodeCacheStats;
}

/** Creates a {@link DecodeCache}. */
export function createDecodeCache(options: DecodeCacheOptions = {}): DecodeCache {
  const maxEntries = Math.max(1, options.maxEntries ?? 1000);
  const map = new Map<string, JobscopeEvent>();
  const st = { hits: 0, misses: 0, evicted: 0 };
  return {
    get(stream, id) {
      const e = map.get(`${stream}\n${id}`);
      if (e) st.hits++;
      else st.misses++;
      return e;
    },
    set(stream, id, event) {
      const key = `${stream}\n${id}`;
      if (map.has(key)) return;
      if (map.size >= maxEntries) {
        map.delete(map.keys().next().value!);
        st.evicted++;
      }
      map.set(key, event);
    },
    stats: () => ({ ...st, size: map.size }),
  };
}
