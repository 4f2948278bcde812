import type { Job } from 'bullmq';
import type { ConnectorContext, ProgressDetail, UsageReport } from '../../connectors/connector.js';
import type { AiUsage } from '../events/index.js';
import type { JobLogger, JobProgressFields } from '../logger/types.js';
import { LazyAbortState } from './lazy-abort.js';
import { createUsageAccumulator, type UsageAccumulator } from './usage-accumulator.js';

/** Options of {@link createAttemptRun}. */
export interface AttemptRunOptions {
  job: Job;
  /** The id the processor tracks the attempt by (BullMQ's job id). */
  jobId: string;
  attempt: number;
  logger: JobLogger;
  /** Also store progress on the BullMQ job (`job.updateProgress`), for BullMQ tooling. */
  mirrorProgress: boolean;
  /** Called when mirroring progress to BullMQ fails (never thrown into the connector). */
  onError: (err: unknown) => void;
}

/**
 * One running attempt, as everything the runtime needs of it in one object: the `ctx` the
 * connector gets (every call lands on the attempt's job logger), the attempt's cancellation
 * (its AbortController is made only when the connector reads `ctx.signal`), the usage it
 * reported (an accumulator made on the first report), and a way to wait for it to end.
 * A no-op job would otherwise make four objects and a closure or two per run.
 */
export class AttemptRun extends LazyAbortState implements ConnectorContext {
  readonly jobId: string;
  readonly attempt: number;
  readonly log: ConnectorContext['log'];
  readonly traceparent: string;
  private readonly o: AttemptRunOptions;
  private usage: UsageAccumulator | undefined = undefined;
  private finished = false;
  private waiting: { promise: Promise<void>; resolve: () => void } | undefined = undefined;

  constructor(o: AttemptRunOptions) {
    super(undefined, undefined);
    this.o = o;
    this.jobId = o.jobId;
    this.attempt = o.attempt;
    // `ctx.log` is the job logger itself: it has the same debug/info/warn/error methods.
    this.log = o.logger;
    this.traceparent = o.logger.traceparent;
  }

  progress(percent: number, detail?: ProgressDetail): void {
    const { o } = this;
    const pct = Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : 0;
    const fields: JobProgressFields = {};
    if (detail?.step !== undefined) fields.step = detail.step;
    if (detail?.totalSteps !== undefined) fields.totalSteps = detail.totalSteps;
    if (detail?.stage !== undefined) fields.stage = detail.stage;
    o.logger.jobProgress(pct, fields);
    if (o.mirrorProgress) o.job.updateProgress(pct).catch(o.onError);
  }

  reportUsage(r: UsageReport): void {
    (this.usage ??= createUsageAccumulator()).add(r);
  }

  /** The usage reported so far, or undefined when none was. */
  usageTotal(): AiUsage | undefined {
    return this.usage?.get();
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

  /** Marks the attempt ended (whoever waits in `done()` goes on). */
  finish(): void {
    this.finished = true;
    this.waiting?.resolve();
  }
}

/** Creates the object of one running attempt (see {@link AttemptRun}). */
export function createAttemptRun(o: AttemptRunOptions): AttemptRun {
  return new AttemptRun(o);
}
