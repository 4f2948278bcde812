/**
 * Says a recurring problem (events dropped, Redis away) at most once per interval per key,
 * with how many times it happened in between, so a flood of failures cannot flood the log.
 */

/** Where a warning goes: usually the logger's own pino `warn`. */
export type WarnSink = (message: string, fields: Record<string, unknown>) => void;

/** Options of {@link createRateLimitedWarning}. */
export interface RateLimitedWarningOptions {
  sink: WarnSink;
  /** Shortest time between two warnings of one key, in ms. Default 10000. */
  intervalMs?: number;
  /** Clock, Unix ms (tests). Default `Date.now`. */
  now?: () => number;
  /** Most keys remembered; past it the oldest is forgotten (its next warning is said at once). Default 256. */
  maxKeys?: number;
}

/** Warns through `sink`, at most once per `intervalMs` per key. */
export type RateLimitedWarning = (key: string, message: string, fields?: Record<string, unknown>) => void;

/** Creates a {@link RateLimitedWarning}. */
export function createRateLimitedWarning(options: RateLimitedWarningOptions): RateLimitedWarning {
  const intervalMs = options.intervalMs ?? 10_000;
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 256;
  const state = new Map<string, { last: number; suppressed: number }>();
  return (key, message, fields = {}) => {
    const t = now();
    const s = state.get(key);
    if (s && t - s.last < intervalMs) {
      s.suppressed++;
      return;
    }
    const suppressed = s?.suppressed ?? 0;
    // Bounded however many keys the caller makes (its keys may come from error messages).
    // Least recently said first: a key said again moves to the end.
    if (s) state.delete(key);
    else if (state.size >= maxKeys) state.delete(state.keys().next().value!);
    state.set(key, { last: t, suppressed: 0 });
    try {
      options.sink(message, suppressed > 0 ? { ...fields, suppressed } : fields);
    } catch {
      // A broken log destination must not break the caller.
    }
  };
}

/**
 * A key for an error message: the same failure with other numbers in it (ports, ids, counts)
 * is one key, so a flood of retries of one failure is said once per interval.
 */
export function errorKey(message: string): string {
  return message.replace(/\d+/g, '#').slice(0, 160);
}
