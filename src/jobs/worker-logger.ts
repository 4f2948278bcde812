import type { JobLoggerFactory } from './job-processor.js';

/**
 * What the job-worker runtime needs of a ConnectorLogger: a job logger per attempt, the
 * worker's own lifecycle events, heartbeats and flush. `ConnectorLogger`
 * (src/logger/connector-logger.ts) satisfies it; tests may pass anything that does.
 */
export interface WorkerLogger extends JobLoggerFactory {
  workerStarted(fields?: { concurrency?: number; queues?: string[]; heartbeatIntervalMs?: number }): void;
  workerStopped(fields?: { reason?: string }): void;
  /** Sends `worker.heartbeat` every `intervalMs` with `currentJobs()`; returns the stop function. */
  startHeartbeats(intervalMs: number, currentJobs: () => string[]): () => void;
  /** Resolves once everything logged is in Redis (true) or after `timeoutMs` (false). */
  flush(timeoutMs?: number): Promise<boolean>;
  /**
   * Registers a function that hands over events held back (the runtime's staged lifecycle
   * events) and that `flush` and `close` call first; returns the function that removes it.
   */
  onFlush(handOver: () => void): () => void;
}
