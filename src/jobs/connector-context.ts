import type { Job } from 'bullmq';
import type { ConnectorContext, ProgressDetail, UsageReport } from '../../connectors/connector.js';
import type { JobLogger, JobProgressFields } from '../logger/types.js';
import type { LazyAbort } from './lazy-abort.js';
import type { UsageAccumulator } from './usage-accumulator.js';

/** Options of {@link createConnectorContext}. */
export interface ConnectorContextOptions {
  job: Job;
  logger: JobLogger;
  /** The attempt's cancellation; `ctx.signal` reads its (lazily made) signal. */
  abort: LazyAbort;
  usage: UsageAccumulator;
  /** Also store progress on the BullMQ job (`job.updateProgress`), for BullMQ tooling. */
  mirrorProgress: boolean;
  /** Called when mirroring progress to BullMQ fails (never thrown into the connector). */
  onError: (err: unknown) => void;
}

/** Builds the `ctx` a connector gets: every call lands on the attempt's job logger. */
export function createConnectorContext(o: ConnectorContextOptions): ConnectorContext {
  return new AttemptContext(o);
}

/**
 * A class, made once per job: its methods live on the prototype, and `ctx.log` is the job
 * logger itself (it has the same debug/info/warn/error methods), so a job that never logs
 * allocates nothing for them.
 */
class AttemptContext implements ConnectorContext {
  readonly log: ConnectorContext['log'];
  readonly traceparent: string;

  constructor(private readonly o: ConnectorContextOptions) {
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

  get signal(): AbortSignal {
    return this.o.abort.signal;
  }

  reportUsage(r: UsageReport): void {
    this.o.usage.add(r);
  }
}
