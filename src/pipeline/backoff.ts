/**
 * Jittered exponential backoff: the n-th consecutive failure waits a random time between half
 * and all of `min(maxMs, baseMs × 2^(n-1))`, and never less than what the backend asked for.
 * Jitter keeps several pipeline processes from retrying a recovering backend in lockstep.
 */

/** Backoff settings. */
export interface BackoffOptions {
  /** First delay, in ms. Default 200. */
  baseMs?: number;
  /** Largest delay, in ms. Default 30000. */
  maxMs?: number;
}

/** The delay before retry number `attempt` (1-based), in ms, at least `retryAfterMs`. */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}, retryAfterMs = 0, random = Math.random): number {
  const baseMs = options.baseMs ?? 200;
  const maxMs = options.maxMs ?? 30_000;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.max(Math.round(jittered), retryAfterMs);
}
