/**
 * Waits for `tasks` to settle within `timeoutMs`. At 80% of the deadline it calls `onLate`
 * (the pipeline aborts in-flight sink writes there, leaving them a moment to return), so the
 * whole drain ends by the deadline. Resolves true when every task settled in time.
 */
export async function drainWithin(tasks: readonly Promise<unknown>[], timeoutMs: number, onLate: () => void): Promise<boolean> {
  const all = Promise.allSettled(tasks).then(() => true);
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number, fn: () => void): void => {
    const t = setTimeout(fn, ms);
    t.unref();
    timers.push(t);
  };
  const deadline = new Promise<boolean>((resolve) => {
    after(Math.floor(timeoutMs * 0.8), onLate);
    after(timeoutMs, () => resolve(false));
  });
  try {
    return await Promise.race([all, deadline]);
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}
