import { intVar, readEnv, type Env } from './env-schema.js';

/** Settings of the job-status store (the status sink's write side). */
export interface StatusConfig {
  /** `STATUS_RETENTION_MS`: jobs and workers are kept this long after their last update, ms. Default 7 days; at least 1 minute. */
  retentionMs: number;
  /** `STATUS_TIMELINE_MAX`: timeline entries kept per job. Default 200 (1–10000). */
  timelineMax: number;
  /** `STATUS_FEED_MAX`: live-feed entries kept (approximately). Default 10000 (100–10000000). */
  feedMax: number;
  /** `STATUS_PRUNE_INTERVAL_MS`: how often expired jobs leave the indexes, ms; 0 = never. Default 60000. */
  pruneIntervalMs: number;
}

/** Reads {@link StatusConfig} from the environment. */
export function loadStatusConfig(env: Env): StatusConfig {
  const v = readEnv(
    {
      STATUS_RETENTION_MS: intVar(7 * 24 * 60 * 60 * 1000, 60_000),
      STATUS_TIMELINE_MAX: intVar(200, 1, 10_000),
      STATUS_FEED_MAX: intVar(10_000, 100, 10_000_000),
      STATUS_PRUNE_INTERVAL_MS: intVar(60_000, 0, 24 * 60 * 60 * 1000),
    },
    env,
  );
  return {
    retentionMs: v.STATUS_RETENTION_MS,
    timelineMax: v.STATUS_TIMELINE_MAX,
    feedMax: v.STATUS_FEED_MAX,
    pruneIntervalMs: v.STATUS_PRUNE_INTERVAL_MS,
  };
}
