import { JobscopeError } from '../errors.js';

/**
 * Why a running job's `ctx.signal` aborted. The runtime tells the two apart: a cancelled job
 * ends (reported `job.cancelled`, never retried); a handed-back job is left for BullMQ's
 * stalled check to give to another worker.
 */

/** A cancel request reached the job. */
export class JobCancelledError extends JobscopeError {
  override readonly name = 'JobCancelledError';
  /** Classified as `cancelled` on events. */
  readonly category = 'cancelled' as const;
  constructor(readonly reason: string) {
    super(`job cancelled: ${reason}`);
  }
}

/** The worker is shutting down and its deadline passed: the job goes back to the queue. */
export class JobHandedBackError extends JobscopeError {
  override readonly name = 'JobHandedBackError';
  constructor(readonly deadlineMs: number) {
    super(`worker shut down; the job was still running after ${deadlineMs} ms and is handed back to the queue`);
  }
}
