/**
 * The delay BullMQ will wait before the next attempt, computed the way its built-in `fixed`
 * and `exponential` strategies do (`exponential`: delay × 2^(attempt − 1)). With jitter the
 * real delay is random up to this value, so this is the upper bound. `undefined` for custom
 * strategies, whose delay only BullMQ knows.
 */

/** BullMQ's `backoff` job option. */
export type BackoffOption = number | { type: string; delay?: number; jitter?: number } | undefined;

/** Delay in ms before the attempt after `failedAttempt` (1-based), or undefined when unknown. */
export function backoffDelayMs(backoff: BackoffOption, failedAttempt: number): number | undefined {
  if (backoff === undefined) return 0;
  if (typeof backoff === 'number') return Number.isFinite(backoff) ? Math.max(0, backoff) : undefined;
  const delay = Math.max(0, backoff.delay ?? 0);
  if (backoff.type === 'fixed') return delay;
  if (backoff.type === 'exponential') return Math.round(2 ** (failedAttempt - 1) * delay);
  return undefined;
}
