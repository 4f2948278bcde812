import { Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Connector } from '../../connectors/connector.js';
import { errorMessage, TimeoutError } from '../errors.js';
import { memoizeBackoffStrategy, workerBackoffStrategy } from './backoff-delay.js';
import { cancelChannel, cancelDoneChannel, createCancelListener, type CancelListener } from './cancel-requests.js';
import { createJobProcessor, type JobProcessor, telemetryJobId } from './job-processor.js';
import type { Pricing } from './pricing.js';
import { asBullConnection, bullClient, quietAfterClose, type RedisConnection } from './redis-connection.js';
import { failedUnrun, reportFailedUnrun, reportStalled } from './stalled-report.js';
import type { WorkerLogger } from './worker-logger.js';
import { withDeadline } from './with-deadline.js';

/**
 * The job-worker runtime: a BullMQ Worker that runs every job through a connector and reports
 * the whole lifecycle (see job-processor.ts), stalled jobs (BullMQ's `stalled` event → a `log`
 * event of kind `stalled`), the worker's start, heartbeats with the jobs it runs, and its stop.
 *
 * A job BullMQ fails without calling the processor (one that stalled more than `maxStalledCount`
 * times: BullMQ 5 stores the failure on it and the next worker that fetches it fails it; or one
 * started more than `maxStartedAttempts` times) is seen only by the worker's `failed` event: it
 * is reported there as a final `job.failed` (the listener runs on failures only).
 *
 * A custom backoff strategy (`workerOptions.settings.backoffStrategy`) decides whether a failed
 * job is retried (-1: not). The runtime asks it once per failure, to report `willRetry` and
 * `job.retrying` right, and BullMQ gets that same answer instead of calling it again (the
 * strategy is wrapped, see backoff-delay.ts): a strategy with side effects or randomness runs
 * once, and what is reported is what BullMQ does.
 *
 * Shutdown: `close()` stops taking jobs and waits for the running ones up to
 * `shutdownTimeoutMs`; past it the jobs are handed back (their signal aborts, the worker closes
 * without completing them, and BullMQ's stalled check gives them to another worker), and the
 * logger is flushed. Heartbeats go on while it drains (a drain outlasts the 3 missed beats after
 * which a worker counts as dead) and stop just before `worker.stopped`.
 */

/** Options of {@link createJobWorker}. */
export interface JobWorkerOptions {
  /** Redis for BullMQ and cancel requests: a client (kept open) or a URL (closed on close). */
  connection: RedisConnection;
  /** BullMQ queue name. */
  queue: string;
  connector: Connector;
  logger: WorkerLogger;
  /** Jobs run at once. Default 4. */
  concurrency?: number;
  /** Interval of `worker.heartbeat` events, in ms. Default 5000. */
  heartbeatIntervalMs?: number;
  /** How long `close()` waits for running jobs before handing them back, in ms. Default 25000. */
  shutdownTimeoutMs?: number;
  /** How long `close()` waits for the logger flush, in ms. Default 5000. */
  flushTimeoutMs?: number;
  /** Jobscope key prefix, for the cancel channel. Default `jobscope`. */
  prefix?: string;
  /** BullMQ key prefix. Default BullMQ's (`bull`). */
  bullPrefix?: string;
  /** Prices usage into `ai.costUsd`. Without it no cost is reported. */
  pricing?: Pricing;
  /** Listen for cancel requests (see cancel-requests.ts). Default true. */
  cancelRequests?: boolean;
  /** Mirror progress to BullMQ's `job.updateProgress`. Default true. */
  mirrorProgress?: boolean;
  /** More BullMQ Worker options (lockDuration, stalledInterval, maxStalledCount, limiter, …). */
  workerOptions?: Partial<Omit<WorkerOptions, 'connection' | 'concurrency' | 'prefix' | 'autorun'>>;
  /** Background errors (Redis, BullMQ, cancel lookups). Default: written as a `warn` line. */
  onError?: (err: unknown) => void;
}

/** A running job worker. */
export interface JobWorker {
  readonly worker: Worker;
  /**
   * Resolves when BullMQ is connected and cancel requests are heard (or could not be: that is
   * reported to `onError`, and the worker runs without them).
   */
  readonly ready: Promise<void>;
  /** Ids of the jobs running now. */
  activeJobs(): string[];
  /** Cancels a job running in this worker (by BullMQ's id or by its telemetry id, as {@link activeJobs} gives it); false when it does not run here. */
  cancelJob(jobId: string, reason?: string): boolean;
  /** Stops taking jobs, drains within `shutdownTimeoutMs` (then hands back), flushes. Idempotent. */
  close(reason?: string): Promise<void>;
}

/** Creates and starts a job worker. */
export function createJobWorker(options: JobWorkerOptions): JobWorker {
  const { logger, queue, connector } = options;
  const concurrency = options.concurrency ?? 4;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 5000;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 25_000;
  const redis = bullClient(options.connection);
  const onError = options.onError ?? ((err: unknown) => console.warn(`jobscope worker (${queue}):`, (err as Error)?.message ?? err));
  let cancels: CancelListener | undefined;
  // The `retry-after` backoff type, and the user's strategy for their own types (backoff-delay.ts).
  const backoff = memoizeBackoffStrategy(workerBackoffStrategy(options.workerOptions?.settings?.backoffStrategy));
  const processor: JobProcessor = createJobProcessor({
    logger,
    connector,
    queue,
    onError,
    ...(options.pricing ? { pricing: options.pricing } : {}),
    ...(options.mirrorProgress !== undefined ? { mirrorProgress: options.mirrorProgress } : {}),
    pendingCancel: (jobId) => cancels?.pending(jobId),
    // A cancel request that ended an attempt is used up (cancel-requests.ts): a later run of the
    // same id (job.retry(), a job re-added with it) runs. Only then: one heard while the attempt
    // was already ending another way (failed, handed back) stays for the next attempt.
    onCancelled: (jobId) => cancels?.consume(jobId),
    backoffDelay: backoff.delayFor,
  });
  const worker = new Worker(queue, (job) => processor.process(job), {
    ...options.workerOptions,
    settings: { ...options.workerOptions?.settings, backoffStrategy: backoff.strategy },
    connection: asBullConnection(redis),
    concurrency,
    ...(options.bullPrefix ? { prefix: options.bullPrefix } : {}),
    // Started below, once the cancel requests stored before this worker started are loaded.
    autorun: false,
  });
  worker.on('error', onError);
  worker.on('stalled', (jobId) => {
    reportStalled({ worker, jobId, queue, logger }).catch(onError);
  });
  // Failures only: those BullMQ fails before calling the processor, with an UnrecoverableError of
  // its own (worker.js getUnrecoverableErrorMessage). Any other failure of a job went through the
  // processor, which reported it (or completed it, when BullMQ then failed to store the result).
  worker.on('failed', (job: Job | undefined, err: Error | undefined) => {
    if (!job || !failedUnrun(job, err)) return;
    try {
      reportFailedUnrun({ job, queue, logger });
    } catch (err) {
      onError(err);
    }
  });
  if (options.cancelRequests ?? true) {
    cancels = createCancelListener({
      subscriber: redis.duplicate(),
      commands: redis,
      prefix: options.prefix ?? 'jobscope',
      queue,
      onError,
      // Straight to the running attempt (BullMQ's job ids; the processor keys by them too).
      onCancel: ({ jobId, reason }) => void processor.cancel(jobId, reason),
    });
  }
  // The logger's flush and close cover the lifecycle events the processor stages.
  const removeHandOver = logger.onFlush(() => processor.flush());
  // No job is taken before the stored cancel requests are loaded: a job cancelled while no
  // worker ran then ends at once instead of running. Were the subscription or the load to fail
  // (a Redis user without Pub/Sub access: Redis 7 gives new ACL users no channels), jobs run
  // anyway, without cancel requests, and the worker says so.
  const cancelsHeard = (cancels?.ready ?? Promise.resolve()).catch((err: unknown) =>
    onError(new Error(`cancel requests are not heard by this worker (jobs run, but cannot be cancelled): ${errorMessage(err)}. If the Redis user lacks Pub/Sub access, allow the channels ${cancelChannel({ prefix: options.prefix, queue })} and ${cancelDoneChannel({ prefix: options.prefix, queue })}.`)),
  );
  // BullMQ's run() returns at once when the worker was paused or closed in the meantime.
  void cancelsHeard.then(() => worker.run()).catch(onError);
  const ready = Promise.all([worker.waitUntilReady(), cancelsHeard]).then(() => undefined);
  // Whoever waits for `ready` sees BullMQ's failure; nobody waiting is not an unhandled rejection
  // (the failure also reaches onError, from BullMQ's 'error').
  ready.catch(() => undefined);
  logger.workerStarted({ concurrency, queues: [queue], heartbeatIntervalMs });
  const activeJobs = (): string[] => [...processor.active.keys()].map((id) => telemetryJobId(id, queue));
  const stopHeartbeats = logger.startHeartbeats(heartbeatIntervalMs, activeJobs);

  let closing: Promise<void> | undefined;
  async function shutdown(reason: string): Promise<void> {
    // Heartbeats go on while draining (up to shutdownTimeoutMs): a worker missing 3 counts as
    // dead and its jobs as orphaned. They stop just before worker.stopped.
    // pause() stops fetching and waits for the running jobs; close() then has nothing to wait for.
    // A pause that fails (Redis away) counts as not drained, and is reported as what it is: the
    // running jobs are handed back and the rest of the stop still runs.
    let pauseFailed = false;
    const drained = await withDeadline(worker.pause(), shutdownTimeoutMs).catch((err: unknown) => {
      pauseFailed = true;
      onError(err);
      return false;
    });
    if (drained) {
      await worker.close().catch(onError);
    } else {
      const ids = activeJobs();
      if (!pauseFailed) {
        onError(
          new TimeoutError(`draining ${ids.length} job(s) (${ids.join(', ')}) at shutdown`, shutdownTimeoutMs, 'handing them back to the queue (another worker takes them after their lock expires)'),
        );
      }
      // Close first: a closed worker does not move the aborted jobs to failed, it leaves them
      // active with an expiring lock, and BullMQ's stalled check gives them to another worker.
      await worker.close(true).catch(onError);
      await processor.handBackAll(shutdownTimeoutMs);
    }
    quietAfterClose(worker);
    // BullMQ is done with it, and closed, no longer listens to its errors: left to reconnect
    // during what follows, a Redis away would get each attempt printed by ioredis as an
    // unhandled error. (The cancel listener's subscriber is a connection of its own.)
    redis.disconnect();
    await cancels?.close().catch(onError);
    processor.flush();
    removeHandOver();
    stopHeartbeats();
    logger.workerStopped({ reason: drained ? reason : `${reason}; handed back unfinished jobs` });
    await logger.flush(options.flushTimeoutMs ?? 5000);
    await connector.close?.().catch(onError);
  }

  return {
    worker,
    ready,
    activeJobs,
    cancelJob: (jobId, reason = 'cancel requested') => processor.cancel(jobId, reason),
    close(reason = 'shutdown') {
      closing ??= shutdown(reason);
      return closing;
    },
  };
}
