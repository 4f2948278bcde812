import { intVar, readEnv, type Env } from './env-schema.js';

/** Settings of the metrics sink (job metrics derived from events). Whether it runs is `JOBSCOPE_SINKS`'s call. */
export interface MetricsConfig {
  /** `METRICS_MAX_LABEL_VALUES`: distinct values per model/provider/connector/service label, default 200 (10–10,000). */
  maxLabelValues: number;
  /** `METRICS_DEDUPE_WINDOW`: recent event ids remembered to skip redeliveries, default 100,000 (0 turns it off). */
  dedupeWindowEvents: number;
}

/** Reads {@link MetricsConfig} from the environment. */
export function loadMetricsConfig(env: Env): MetricsConfig {
  const v = readEnv(
    {
      METRICS_MAX_LABEL_VALUES: intVar(200, 10, 10_000),
      METRICS_DEDUPE_WINDOW: intVar(100_000, 0, 10_000_000),
    },
    env,
  );
  return { maxLabelValues: v.METRICS_MAX_LABEL_VALUES, dedupeWindowEvents: v.METRICS_DEDUPE_WINDOW };
}
