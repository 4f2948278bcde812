/**
 * Drains a logger when the process is asked to stop. Installing a SIGTERM listener disables
 * Node's default "exit on SIGTERM", so once the drain is done, and if no one else listens,
 * the signal is raised again to get the default behaviour back (the library never calls
 * `process.exit`).
 */

/** Options of {@link installSignalDrain}. */
export interface SignalDrainOptions {
  /** How long the drain may take, in ms. Default 5000. */
  timeoutMs?: number;
  /** Default `['SIGTERM', 'SIGINT']`. */
  signals?: NodeJS.Signals[];
  /** Called if the drain rejects (it should not). */
  onError?: (err: unknown) => void;
}

/** Runs `drain(timeoutMs)` on the first of `signals`; returns a function that uninstalls it. */
export function installSignalDrain(drain: (timeoutMs: number) => Promise<unknown>, options: SignalDrainOptions = {}): () => void {
  const timeoutMs = options.timeoutMs ?? 5000;
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let fired = false;
  const uninstall = () => {
    for (const s of signals) process.off(s, handler);
  };
  function handler(signal: NodeJS.Signals): void {
    if (fired) return;
    fired = true;
    drain(timeoutMs)
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        uninstall();
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  }
  for (const s of signals) process.on(s, handler);
  return uninstall;
}
