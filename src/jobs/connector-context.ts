import type { Job } from 'bullmq';
import type { ConnectorContext, ProgressDetail } from '../../connectors/connector.js';
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
  const { logger } = o;
  return {
    progress(percent: number, detail?: ProgressDetail): void {
      const pct = Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : 0;
      const fields: JobProgressFields = {};
      if (detail?.step !== undefined) fields.step = detail.step;
      if (detail?.totalSteps !== undefined) fields.totalSteps = detail.totalSteps;
      if (detail?.stage !== undefined) fields.stage = detail.stage;
      logger.jobProgress(pct, fields);
      if (o.mirrorProgress) o.job.updateProgress(pct).catch(o.onError);
    },
    log: {
      debug: (m, a) => logger.debug(m, a),
      info: (m, a) => logger.info(m, a),
      warn: (m, a) => logger.warn(m, a),
      error: (m, a) => logger.error(m, a),
    },
    get signal() {
      return o.abort.signal;
    },
    reportUsage: (r) => o.usage.add(r),
    traceparent: logger.traceparent,
  };
}
