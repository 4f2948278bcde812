import { Job, type Worker } from 'bullmq';
import { telemetryJobId } from './job-processor.js';
import type { WorkerLogger } from './worker-logger.js';

/**
 * Reports a job BullMQ found stalled (its worker died or blocked the event loop past the lock):
 * a `log` event of kind `stalled` on the job, at the attempt that stalled. When BullMQ gave up
 * on it (past `maxStalledCount`), the job has failed for good and a final `job.failed` follows.
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
  const attempt = (job?.attemptsMade ?? 0) + 1;
  const jl = o.logger.withJobContext(telemetryJobId(o.jobId, o.queue), {
    attempt,
    queue: o.queue,
    ...(job?.name ? { name: job.name } : {}),
    ...(typeof job?.data?.traceparent === 'string' ? { traceparent: job.data.traceparent as string } : {}),
  });
  const state = job ? await job.getState() : 'unknown';
  // A `log` event on the job; `attrs.kind` says `stalled` (the JobLogger surface has no typed kinds).
  jl.warn(`job stalled: its worker stopped renewing the lock; BullMQ moved it to ${state}`, {
    kind: 'stalled',
    state,
    stalledCount: job?.stalledCounter ?? 0,
  });
  if (state === 'failed' && job) {
    jl.jobFailed({ type: 'StalledError', category: 'timeout', message: job.failedReason || 'job stalled more than allowed' }, { willRetry: false });
  }
}
