import { Backoffs, type BackoffStrategy, type Job, type MinimalJob } from 'bullmq';

/**
 * The delay BullMQ will wait before the next attempt, computed the way its built-in `fixed`
 * and `exponential` strategies do (`exponential`: delay × 2^(attempt − 1)). With jitter the
 * real delay is random up to this value, so this is the upper bound. `undefined` for custom
 * strategies, whose delay only BullMQ knows (or {@link memoizeBackoffStrategy}).
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

/**
 * The backoff type that honours a service's `Retry-After`: `{ type: 'retry-after', delay }` waits
 * as `exponential` does (delay × 2^(attempt − 1)), or as long as the failure's `retryAfterMs`
 * (a ConnectorError from a 429 or 503 with `Retry-After`) asks, whichever is longer.
 */
export const RETRY_AFTER_BACKOFF = 'retry-after';

/** The delay of the `retry-after` backoff after the failure of attempt `attemptsMade` (1-based). */
export function retryAfterDelayMs(attemptsMade: number, err: unknown, delay: number | undefined): number {
  const exponential = backoffDelayMs({ type: 'exponential', delay: delay ?? 0 }, Math.max(1, attemptsMade))!;
  const asked = (err as { retryAfterMs?: unknown } | null | undefined)?.retryAfterMs;
  return typeof asked === 'number' && Number.isFinite(asked) && asked > exponential ? Math.ceil(asked) : exponential;
}

/**
 * The worker's `settings.backoffStrategy`: the `retry-after` type, then the user's strategy for
 * any other custom type. Without one, another type fails as BullMQ fails it.
 */
export function workerBackoffStrategy(user: BackoffStrategy | undefined): BackoffStrategy {
  return (attemptsMade, type, err, job) => {
    if (type === RETRY_AFTER_BACKOFF) return retryAfterDelayMs(attemptsMade, err, (job?.opts.backoff as { delay?: number } | undefined)?.delay);
    if (user) return user(attemptsMade, type, err, job);
    throw new Error(`Unknown backoff strategy ${type}. If a custom backoff strategy is used, specify it when the queue is created.`);
  };
}

/**
 * A custom backoff strategy asked once per failure. BullMQ calls the worker's
 * `settings.backoffStrategy` when it moves a failed job (job.js `shouldRetryJob`): -1 means "do
 * not retry", any other value is the delay. The runtime needs that answer earlier, to report
 * `willRetry` and `job.retrying` from the processor; asking the strategy itself would call it
 * twice (a strategy with side effects, a counter, or randomness would then see two calls and
 * could answer differently from what BullMQ does). So the runtime asks through
 * {@link BackoffMemo.delayFor}, which keeps the answer on the job object, and BullMQ is given
 * {@link BackoffMemo.strategy}, which returns that kept answer (once) instead of calling again.
 */
export interface BackoffMemo {
  /** What BullMQ gets as `settings.backoffStrategy`. */
  readonly strategy: BackoffStrategy;
  /**
   * The answer of the strategy for the failure of `attempt` (1-based) with `err`, asked as BullMQ
   * asks it (attempt, backoff type, error, job), kept for BullMQ; rejects when the strategy
   * throws. `undefined` when BullMQ will not ask it: a built-in type (`fixed`, `exponential`) or
   * no backoff. Call it only when BullMQ will retry otherwise (attempts left, not unrecoverable).
   */
  delayFor(job: Job, attempt: number, err: unknown): Promise<number> | undefined;
}

/** Wraps a custom backoff strategy so that one failure asks it once (see {@link BackoffMemo}). */
export function memoizeBackoffStrategy(user: BackoffStrategy): BackoffMemo {
  // Kept on the job object BullMQ hands to the processor and then moves to failed (the same one).
  const kept = new WeakMap<object, { attempt: number; answer: Promise<number> }>();
  return {
    strategy(attemptsMade, type, err, job) {
      const k = job ? kept.get(job) : undefined;
      if (k && k.attempt === attemptsMade) {
        kept.delete(job!);
        return k.answer;
      }
      return user(attemptsMade, type, err, job);
    },
    delayFor(job, attempt, err) {
      const backoff = job.opts.backoff;
      // As BullMQ's Backoffs.calculate: nothing without a backoff, a built-in type before the custom strategy.
      if (!backoff || typeof backoff !== 'object' || backoff.type in Backoffs.builtinStrategies) return undefined;
      const answer = Promise.resolve().then(() => user(attempt, backoff.type, err as Error, job as MinimalJob));
      kept.set(job, { attempt, answer });
      return answer;
    },
  };
}
