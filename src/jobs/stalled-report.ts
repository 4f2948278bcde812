import { Job, type Worker } from 'bullmq';
import { attemptContext } from './connector-context.js';
import { attemptNumber, telemetryJobId } from './job-processor.js';
import type { WorkerLogger } from './worker-logger.js';

/**
 * Reports a job BullMQ found stalled (its worker died or blocked the event loop past the lock):
 * a `log` event of kind `stalled` on the job, at the attempt that stalled.
 *
 * Past `maxStalledCount`, BullMQ 5 does not fail the job there: it stores the failure on it
 * (`deferredFailure`, hash field `defa`), moves it back to wait, and the next worker that fetches
 * it fails it without calling the processor. The stalled report says so (`final: true`), and the
 * final `job.failed` comes from that worker (BullMQ's `failed` event, {@link reportFailedUnrun}),
 * once: reported here too, it would come twice, or for a job that in the meantime ran again and
 * failed for another reason.
 */

/** What {@link reportStalled} needs. */
export interface StalledReportOptions {
  worker: Worker;
  jobId: string;
  queue: string;
  logger: WorkerLogger;
}

/** Looks the job up and reports it stalled. */
export async function reportStalled(o: StalledReportOptions): Promise<void> {
  const job = await Job.fromId(o.worker, o.jobId);
  const state = job ? await job.getState() : 'unknown';
  // The run that stalled: the job's count of starts, unless a worker took it again already
  // (it is active, or ended since): then that new run counted one more. Its count is read again
  // in that case, as the first read may have come before or after that start. (What the stall
  // left on the job, a deferred failure, is the first read's: taking the job clears it.)
  const restarted = state === 'active' || state === 'completed' || state === 'failed';
  const counted = job && restarted ? ((await Job.fromId(o.worker, o.jobId)) ?? job) : job;
  const attempt = counted ? Math.max(1, attemptNumber(counted) - (restarted ? 1 : 0)) : 1;
  const jl = o.logger.withJobContext(telemetryJobId(o.jobId, o.queue), job ? attemptContext(job, attempt, o.queue) : { attempt, queue: o.queue });
  const deferred = job?.deferredFailure;
  // A `log` event on the job; `attrs.kind` says `stalled` (the JobLogger surface has no typed kinds).
  jl.warn(
    deferred
      ? `job stalled more often than allowed (maxStalledCount): BullMQ moved it to ${state} and fails it, without running it again, when a worker takes it: ${deferred}`
      : `job stalled: its worker stopped renewing the lock; BullMQ moved it to ${state}`,
    { kind: 'stalled', state, stalledCount: job?.stalledCounter ?? 0, ...(deferred ? { final: true } : {}) },
  );
}

/** BullMQ's reason for a job started more than `maxStartedAttempts` times (worker.js). */
const STARTED_TOO_OFTEN = 'job started more than allowable limit';

/**
 * Whether BullMQ's `failed` event is for a job it failed without calling the processor: it
 * fails those with an UnrecoverableError whose message is the job's deferred failure (stalled
 * too often) or its started-too-often reason (BullMQ 5's worker.js, getUnrecoverableErrorMessage).
 */
export function failedUnrun(job: Job, err: Error | undefined): boolean {
  if (err?.name !== 'UnrecoverableError') return false;
  return (job.deferredFailure !== undefined && err.message === job.deferredFailure) || err.message === STARTED_TOO_OFTEN;
}

/** What {@link reportFailedUnrun} needs. */
export interface FailedUnrunOptions {
  /** The job of BullMQ's `failed` event (after its move to failed). */
  job: Job;
  queue: string;
  logger: WorkerLogger;
}

/**
 * Reports the final failure of a job BullMQ failed without running it (the processor saw nothing):
 * a deferred failure after too many stalls (`job.deferredFailure`), or one started more than
 * `maxStartedAttempts` times. BullMQ fails these as unrecoverable: no retry follows.
 */
export function reportFailedUnrun(o: FailedUnrunOptions): void {
  const { job } = o;
  // The attempt that stalled (or the last that ran): the fetch that failed it counted a start
  // of its own (attemptsStarted) without running it.
  const attempt = Math.max(1, job.attemptsStarted ? job.attemptsStarted - 1 : job.attemptsMade);
  const jl = o.logger.withJobContext(telemetryJobId(job.id ?? 'unknown', o.queue), attemptContext(job, attempt, o.queue));
  const stalled = job.deferredFailure !== undefined && job.deferredFailure !== '';
  const message = job.failedReason || job.deferredFailure || 'failed by BullMQ without running';
  jl.jobFailed({ type: stalled ? 'StalledError' : 'UnrecoverableError', category: stalled ? 'timeout' : 'unknown', message }, { durationMs: 0, willRetry: false });
}
