import { boolVar, intVar, readEnv, type Env } from './env-schema.js';

/** Settings of the metrics sink (job metrics derived from events). */
export interface MetricsConfig {
  /** `METRICS_SINK`: run the metrics sink in the pipeline, default true. */
  enabled: boolean;
  /** `METRICS_MAX_LABEL_VALUES`: distinct values per model/provider/connector/service label, default 200 (10–10,000). */
  maxLabelValues: number;
  /** `METRICS_DEDUPE_WINDOW`: recent event ids remembered to skip redeliveries, default 100,000 (0 turns it off). */
  dedupeWindowEvents: number;
}

/** Reads {@link MetricsConfig} from the environment. */
export function loadMetricsConfig(env: Env): MetricsConfig {
  const v = readEnv(
    {
      METRICS_SINK: boolVar(true),
      METRICS_MAX_LABEL_VALUES: intVar(200, 10, 10_000),
      METRICS_DEDUPE_WINDOW: intVar(100_000, 0, 10_000_000),
    },
    env,
  );
  return { enabled: v.METRICS_SINK, maxLabelValues: v.METRICS_MAX_LABEL_VALUES, dedupeWindowEvents: v.METRICS_DEDUPE_WINDOW };
}
