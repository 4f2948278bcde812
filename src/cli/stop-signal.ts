/**
 * When a following command (`watch`, `tail`) stops: Ctrl-C, `--for <seconds>`, or its own
 * reason (`--count` reached). One AbortSignal carries all three.
 */

/** Options of {@link createStopSignal}. */
export interface StopSignalOptions {
  /** Stop after this many seconds; undefined = no limit. */
  forSeconds?: number;
  /** Also stop on SIGINT (Ctrl-C). Default true. */
  onSigint?: boolean;
}

/** The signal and how to release its listeners. */
export interface StopSignal {
  readonly signal: AbortSignal;
  /** Stops now (e.g. `--count` reached). */
  stop(): void;
  /** Removes the SIGINT listener and the timer; idempotent. */
  dispose(): void;
}

/** Creates a {@link StopSignal}. */
export function createStopSignal(options: StopSignalOptions = {}): StopSignal {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  const timer = options.forSeconds === undefined ? undefined : setTimeout(stop, options.forSeconds * 1000);
  const sigint = options.onSigint ?? true;
  if (sigint) process.once('SIGINT', stop);
  return {
    signal: controller.signal,
    stop,
    dispose() {
      if (timer) clearTimeout(timer);
      if (sigint) process.removeListener('SIGINT', stop);
    },
  };
}
