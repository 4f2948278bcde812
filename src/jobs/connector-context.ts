import type { Job } from 'bullmq';
import type { ConnectorContext, ProgressDetail } from '../../connectors/connector.js';
import type { AiUsage } from '../events/index.js';
import type { JobContextOptions, JobLogger, JobProgressFields } from '../logger/types.js';
import { takesStagedLifecycle } from '../logger/job-logger.js';
import { LazyAbortState } from './lazy-abort.js';
import { createUsageAccumulator, type UsageAccumulator } from './usage-accumulator.js';

/** What every attempt of one processor shares. */
export interface AttemptRunShared {
  /** The BullMQ queue the attempts come from. */
  queue: string;
  /** Makes an attempt's job logger (BullMQ's job id and the attempt's context), on first need. */
  logger: (jobId: string, context: JobContextOptions) => JobLogger;
  /** Also store progress on the BullMQ job (`job.updateProgress`), for BullMQ tooling. */
  mirrorProgress: boolean;
  /** Called when mirroring progress to BullMQ fails (never thrown into the connector). */
  onError: (err: unknown) => void;
}

/**
 * One running attempt, as everything the runtime needs of it in one object: the `ctx` the
 * connector gets, the attempt's cancellation (its AbortController is made only when the
 * connector reads `ctx.signal`), the usage it reported (an accumulator made on the first
 * report), a way to wait for it to end, and its STAGED lifecycle events.
 *
 * Staging: the runtime records that the attempt was received and started (and, for a quick
 * job, that it completed) here, with their times, and the processor hands the events of many
 * attempts to the logger at once, a few milliseconds later (job-processor.ts). Encoding the
 * events of one attempt, and of many, together costs a fraction of doing it a call at a time
 * between the worker's own work. Anything that needs the attempt's events in order first
 * hands over what is staged: the connector touching `ctx.log` or `ctx.progress`, a failure.
 */
export class AttemptRun extends LazyAbortState implements ConnectorContext {
  /**
   * The BullMQ job while the attempt runs. Let go when it ends: an attempt waits a few
   * milliseconds for its staged events to be handed over, and a job object kept alive that long
   * is copied by every young-generation collection in between; what the logger needs of it is
   * kept in {@link context} instead.
   */
  private job: Job | undefined;
  private context: JobContextOptions | undefined = undefined;
  private jl: JobLogger | undefined = undefined;
  private usage: UsageAccumulator | undefined = undefined;
  private finished = false;
  private waiting: { promise: Promise<void>; resolve: () => void } | undefined = undefined;
  // The staged events, as plain fields (no object per event). 0: nothing staged.
  private receivedAt = 0;
  private enqueuedAt = 0;
  private queueWaitMs: number | undefined = undefined;
  private priority: number | undefined = undefined;
  private completedAt = 0;
  private durationMs = 0;
  private ai: AiUsage | undefined = undefined;
  private outputCount: number | undefined = undefined;
  private outputSize: number | undefined = undefined;
  private boundLog: ConnectorContext['log'] | undefined = undefined;
  private boundProgress: ConnectorContext['progress'] | undefined = undefined;
  private boundUsage: ConnectorContext['reportUsage'] | undefined = undefined;
  /** In the processor's staging queue (maintained by the processor). */
  queued = false;
  /** Kept staged by a hand-over to wait for its end (maintained by the processor; once per attempt). */
  held = false;

  /**
   * @param jobId The id the processor tracks the attempt by (BullMQ's job id).
   */
  constructor(
    job: Job,
    readonly jobId: string,
    readonly attempt: number,
    private readonly shared: AttemptRunShared,
  ) {
    super(undefined, undefined);
    this.job = job;
  }

  /** The attempt's job logger, with every staged event handed over first. */
  get logger(): JobLogger {
    this.emitStaged();
    return this.jl!;
  }

  /**
   * `ctx.log`: the job logger's debug/info/warn/error, bound (a connector may pass
   * `ctx.log.info` around as a callback); each call hands over the staged events first.
   * Made on first use.
   */
  get log(): ConnectorContext['log'] {
    return (this.boundLog ??= {
      debug: (message, attrs) => this.logger.debug(message, attrs),
      info: (message, attrs) => this.logger.info(message, attrs),
      warn: (message, attrs) => this.logger.warn(message, attrs),
      error: (message, attrs) => this.logger.error(message, attrs),
    });
  }

  get traceparent(): string {
    return this.ensureLogger().traceparent;
  }

  /** `ctx.progress`, bound (connectors pass it to their I/O as a callback); made on first use. */
  get progress(): ConnectorContext['progress'] {
    return (this.boundProgress ??= (percent, detail) => this.reportProgress(percent, detail));
  }

  /** `ctx.reportUsage`, bound; made on first use. */
  get reportUsage(): ConnectorContext['reportUsage'] {
    return (this.boundUsage ??= (r) => (this.usage ??= createUsageAccumulator()).add(r));
  }

  private reportProgress(percent: number, detail: ProgressDetail | undefined): void {
    const o = this.shared;
    const pct = Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : 0;
    const fields: JobProgressFields = {};
    if (detail?.step !== undefined) fields.step = detail.step;
    if (detail?.totalSteps !== undefined) fields.totalSteps = detail.totalSteps;
    if (detail?.stage !== undefined) fields.stage = detail.stage;
    this.logger.jobProgress(pct, fields);
    // After the attempt ended BullMQ's job is no longer ours to update (the event still goes).
    if (o.mirrorProgress) this.job?.updateProgress(pct).catch(o.onError);
  }

  /** The usage reported so far, or undefined when none was. */
  usageTotal(): AiUsage | undefined {
    return this.usage?.get();
  }

  /**
   * Records that the attempt was received and started at `at` (Unix ms). `queueWaitMs` only for a
   * first attempt: a retry's time since the enqueue holds the earlier attempts and their backoff.
   */
  stageStart(at: number, enqueuedAt: number, queueWaitMs: number | undefined, priority: number | undefined): void {
    this.receivedAt = at;
    this.enqueuedAt = enqueuedAt;
    this.queueWaitMs = queueWaitMs;
    this.priority = priority;
  }

  /**
   * When the attempt started (Unix ms) if only its start is staged, still waiting for its end to
   * go with it; else 0 (nothing staged, or its end is staged too: ready to hand over).
   */
  get pendingStartAt(): number {
    return this.completedAt === 0 ? this.receivedAt : 0;
  }

  /** Records that the attempt completed at `at` (Unix ms), with what the completed event carries. */
  stageEnd(at: number, durationMs: number, ai: AiUsage | undefined, outputCount: number | undefined, outputSize: number | undefined): void {
    this.completedAt = at;
    this.durationMs = durationMs;
    this.ai = ai;
    this.outputCount = outputCount;
    this.outputSize = outputSize;
  }

  /** Hands the staged events to the logger, in order. Never throws (the logger does not). */
  emitStaged(): void {
    const jl = this.ensureLogger();
    const fast = takesStagedLifecycle(jl);
    const at = this.receivedAt;
    const endAt = this.completedAt;
    this.receivedAt = 0;
    this.completedAt = 0;
    if (fast && at !== 0 && endAt !== 0 && this.ai === undefined) {
      // A short attempt: all three events in one go.
      jl.stagedAttempt(at, this.enqueuedAt, this.queueWaitMs, this.priority, endAt, this.durationMs, this.outputCount, this.outputSize);
      return;
    }
    if (at !== 0) {
      if (fast) jl.stagedStart(at, this.enqueuedAt, this.queueWaitMs, this.priority);
      else {
        // A retry has no queue wait (stageStart), and so no enqueue time to count one from.
        jl.jobReceived({ at, ...(this.queueWaitMs !== undefined ? { enqueuedAt: this.enqueuedAt, queueWaitMs: this.queueWaitMs } : {}), priority: this.priority });
        jl.jobStarted({ at, queueWaitMs: this.queueWaitMs });
      }
    }
    if (endAt !== 0) {
      if (fast) jl.stagedCompleted(endAt, this.durationMs, this.ai, this.outputCount, this.outputSize);
      else jl.jobCompleted({ at: endAt, durationMs: this.durationMs, ai: this.ai, outputCount: this.outputCount, outputSize: this.outputSize });
    }
  }

  /** Resolves when the attempt has been reported and left the processor. */
  done(): Promise<void> {
    if (this.finished) return Promise.resolve();
    if (!this.waiting) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiting = { promise, resolve };
    }
    return this.waiting.promise;
  }

  /** Marks the attempt ended (whoever waits in `done()` goes on) and lets go of the BullMQ job. */
  finish(): void {
    if (this.jl === undefined && this.job !== undefined) this.context = attemptContext(this.job, this.attempt, this.shared.queue);
    this.job = undefined;
    this.finished = true;
    this.waiting?.resolve();
  }

  private ensureLogger(): JobLogger {
    // Before finish() the job is there; after it, `context` is (finish() keeps it when no logger was made).
    return (this.jl ??= this.shared.logger(this.jobId, this.context ?? attemptContext(this.job!, this.attempt, this.shared.queue)));
  }
}

/** The `withJobContext` options of a BullMQ job's attempt. */
export function attemptContext(job: Job, attempt: number, queue: string): JobContextOptions {
  const data: unknown = job.data;
  // One shape for every job; absent values stay undefined.
  return { attempt, queue, name: job.name, traceparent: dataField(data, 'traceparent'), sessionId: dataField(data, 'sessionId') };
}

function dataField(data: unknown, key: string): string | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const v = (data as Record<string, unknown>)[key];
  return typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : undefined;
}
