import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { readStreamStats, type StreamStats, type Trimmer } from '../bus/index.js';
import type { PipelineMetrics } from './pipeline-metrics.js';

/**
 * The periodic housekeeping of a pipeline process: trims the streams (never below what a
 * group has not acknowledged) and refreshes the lag / pending / length gauges. It runs on an
 * unref'd timer, one run at a time; a failed run is logged and the next one tries again.
 */

/** Options of {@link createStatsLoop}. */
export interface StatsLoopOptions {
  redis: Redis;
  streams: readonly string[];
  deadLetterStream: string;
  trimmer: Trimmer;
  metrics: PipelineMetrics;
  logger: Logger;
  /** How often to run, in ms. Default 5000. */
  intervalMs?: number;
}

/** The stats loop. */
export interface StatsLoop {
  start(): void;
  /** Runs once now (trim, then stats); resolves with the stats. */
  runOnce(): Promise<StreamStats>;
  /** The stats of the last run, if any. */
  last(): StreamStats | undefined;
  /** Stops the timer and waits for a run in progress. Idempotent. */
  close(): Promise<void>;
}

/** Creates a {@link StatsLoop}. */
export function createStatsLoop(options: StatsLoopOptions): StatsLoop {
  const { redis, streams, deadLetterStream, trimmer, metrics, logger } = options;
  const intervalMs = options.intervalMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let latest: StreamStats | undefined;
  let closed = false;

  async function runOnce(): Promise<StreamStats> {
    const trims = await trimmer.trim();
    for (const t of trims) if (t.removed > 0) logger.debug({ stream: t.stream, removed: t.removed, minId: t.minId }, 'stream trimmed');
    const stats = await readStreamStats(redis, streams, deadLetterStream);
    for (const s of stats.streams) metrics.streamLength.set({ stream: s.stream }, s.length);
    for (const g of stats.groups) {
      if (g.sink === undefined) continue;
      metrics.groupLag.set({ sink: g.sink }, g.lag);
      metrics.groupPending.set({ sink: g.sink }, g.pending);
    }
    metrics.deadLetterLength.set(stats.deadLetterLength);
    latest = stats;
    return stats;
  }

  function tick(): void {
    if (running || closed) return;
    running = runOnce()
      .catch((err: unknown) => logger.error({ err }, 'pipeline stats/trim run failed; retrying on the next tick'))
      .finally(() => {
        running = undefined;
      });
  }

  return {
    start() {
      if (timer || closed) return;
      timer = setInterval(tick, intervalMs);
      timer.unref();
      tick();
    },
    runOnce,
    last: () => latest,
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}
