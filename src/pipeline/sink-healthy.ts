import type { Sink } from '../sinks/sink.js';

/**
 * Whether a sink's backend answers its health check within `timeoutMs` (ms) and says ok.
 * A throw or a timeout counts as unhealthy. The timer is cleared (and `unref()`'d meanwhile).
 */
export async function sinkHealthy(sink: Sink, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([sink.health().then((h) => h.ok), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
