import type { EntryDecodeResult } from '../events/index.js';

/**
 * Decoded entries shared by the sink loops of one pipeline process. Every sink's group reads
 * the same stream entries, and decoding (JSON parse + schema validation) is the largest CPU
 * cost of the pipeline itself: with N sinks, an entry decoded by the first loop is reused by
 * the other N − 1 while they are within `maxEvents` events of each other. A loop further
 * behind simply decodes again. Events are shared, so sinks must not mutate the events they
 * are given (none does: the scrubber copies).
 *
 * Keyed by entry, holding every decoded part of it (one for a single-event entry, up to 64
 * for a packed one, failed lines included so their reasons are not recomputed). Bounded in
 * events, not entries, since a packed entry weighs up to 64 single ones: at most `maxEvents`
 * parts, the oldest entries inserted evicted first (their parts counted).
 */

/** The decoded parts of an entry the cache keeps (entries that failed as a whole are not kept). */
export type DecodedEntry = Extract<EntryDecodeResult, { ok: true }>;

/** Options of {@link createDecodeCache}. */
export interface DecodeCacheOptions {
  /** Events kept. Default 1000 (five batches of 200, ~2 MB at 2 KB per event). */
  maxEvents?: number;
}

/** Counters of a {@link DecodeCache}. */
export interface DecodeCacheStats {
  /** Entry lookups answered from the cache. */
  hits: number;
  misses: number;
  /** Events evicted to stay within `maxEvents`. */
  evicted: number;
  /** Events held. */
  size: number;
}

/** A bounded stream-entry → decoded-parts cache. */
export interface DecodeCache {
  get(stream: string, id: string): DecodedEntry | undefined;
  set(stream: string, id: string, decoded: DecodedEntry): void;
  stats(): DecodeCacheStats;
}

/** Creates a {@link DecodeCache}. */
export function createDecodeCache(options: DecodeCacheOptions = {}): DecodeCache {
  const maxEvents = Math.max(1, options.maxEvents ?? 1000);
  const map = new Map<string, DecodedEntry>();
  const st = { hits: 0, misses: 0, evicted: 0 };
  let size = 0;
  return {
    get(stream, id) {
      const e = map.get(`${stream}\n${id}`);
      if (e) st.hits++;
      else st.misses++;
      return e;
    },
    set(stream, id, decoded) {
      const key = `${stream}\n${id}`;
      const n = decoded.parts.length;
      if (map.has(key) || n > maxEvents) return;
      while (size + n > maxEvents) {
        const [oldest, value] = map.entries().next().value!;
        map.delete(oldest);
        size -= value.parts.length;
        st.evicted += value.parts.length;
      }
      map.set(key, decoded);
      size += n;
    },
    stats: () => ({ ...st, size }),
  };
}
