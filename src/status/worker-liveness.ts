import type { WorkerLiveness } from './types.js';

/**
 * Liveness of a worker, judged on read from the times the registry holds, so it is right even
 * when no event arrives (a dead worker sends none).
 */

/** What liveness is judged from. */
export interface LivenessInput {
  startedAt?: number;
  stoppedAt?: number;
  lastHeartbeatAt?: number;
  lastSeenAt?: number;
  heartbeatIntervalMs?: number;
  currentJobs: readonly string[];
}

/** Options of {@link workerLiveness}. */
export interface LivenessOptions {
  /** Now, Unix ms. */
  now: number;
  /** Interval assumed for a worker that never said its own, ms. Default 30000. */
  defaultHeartbeatIntervalMs?: number;
  /** A worker is dead after this many intervals without a sign of life. Default 3. */
  deadAfterIntervals?: number;
}

/**
 * `stopped` when its last word was worker.stopped; `dead` when nothing was heard for
 * `deadAfterIntervals` heartbeat intervals; `busy` when it runs jobs; `idle` otherwise.
 */
export function workerLiveness(w: LivenessInput, options: LivenessOptions): WorkerLiveness {
  const lastAlive = Math.max(w.lastHeartbeatAt ?? 0, w.startedAt ?? 0, w.lastSeenAt ?? 0);
  if (w.stoppedAt !== undefined && w.stoppedAt >= Math.max(w.lastHeartbeatAt ?? 0, w.startedAt ?? 0)) {
    return 'stopped';
  }
  const intervalMs = w.heartbeatIntervalMs ?? options.defaultHeartbeatIntervalMs ?? 30_000;
  const deadAfter = options.deadAfterIntervals ?? 3;
  if (options.now - lastAlive > deadAfter * intervalMs) return 'dead';
  return w.currentJobs.length > 0 ? 'busy' : 'idle';
}
