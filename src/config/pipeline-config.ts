import { enumVar, intVar, listVar, optionalStringVar, readEnv, type Env } from './env-schema.js';

/** Settings of `jobscope pipeline`, from the environment. */
export interface PipelineConfig {
  /** `JOBSCOPE_SINKS`: the sinks to run, comma-separated. Default: {@link defaultSinkNames}. */
  sinks: string[];
  /** `PIPELINE_BATCH_SIZE`: events per write batch; reads ask for the entries that hold about this many. Default 200. */
  batchSize: number;
  /** `PIPELINE_BLOCK_MS`: how long a read waits for new entries, ms. Default 1000. */
  blockMs: number;
  /** `PIPELINE_MAX_DELIVERIES`: deliveries before dead-lettering. Default 5. */
  maxDeliveries: number;
  /** `PIPELINE_CLAIM_IDLE_MS`: claim entries idle this long from other consumers, ms. Default 30000. */
  claimIdleMs: number;
  /** `PIPELINE_RETRY_BASE_MS` / `PIPELINE_RETRY_MAX_MS`: backoff of failed writes, ms. Default 200 / 30000. */
  retry: { baseMs: number; maxMs: number };
  /** `PIPELINE_BREAKER_FAILURES` / `PIPELINE_BREAKER_OPEN_MS`: default 5 failures / 10000 ms. */
  breaker: { failureThreshold: number; openMs: number };
  /** `PIPELINE_SHUTDOWN_TIMEOUT_MS`: drain deadline on SIGTERM, ms. Default 10000. */
  shutdownTimeoutMs: number;
  /** `STREAM_MAX_LEN` / `STREAM_MAX_AGE_MS`: trim budget (never below unacknowledged entries). Default unset. */
  trim: { maxLength?: number; maxAgeMs?: number };
  /** `METRICS_PORT`: port of `/metrics` and `/healthz`; 0 = off. Default 9464. */
  metricsPort: number;
  /** `LOG_LEVEL`: pino level of the pipeline process. Default `info`. */
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** `PIPELINE_CONSUMER_NAME`: this process's consumer name. Default `hostname-pid-random`. */
  consumerName?: string;
}

/**
 * The sinks that run when `JOBSCOPE_SINKS` is unset: status, metrics and sequence always, and each
 * external sink whose backend is configured (`FLUENTD_HOST`, an OTLP endpoint, `SENTRY_DSN`).
 */
export function defaultSinkNames(env: Env): string[] {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  const names = ['status', 'metrics', 'sequence'];
  if (set('FLUENTD_HOST')) names.push('fluentd');
  if (set('OTEL_EXPORTER_OTLP_ENDPOINT') || set('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')) names.push('otel');
  if (set('SENTRY_DSN')) names.push('sentry');
  return names;
}

/** Reads {@link PipelineConfig} from the environment. */
export function loadPipelineConfig(env: Env): PipelineConfig {
  const v = readEnv(
    {
      JOBSCOPE_SINKS: listVar([]),
      PIPELINE_BATCH_SIZE: intVar(200, 1, 10_000),
      PIPELINE_BLOCK_MS: intVar(1000, 1, 60_000),
      PIPELINE_MAX_DELIVERIES: intVar(5, 1, 1000),
      PIPELINE_CLAIM_IDLE_MS: intVar(30_000, 100, 86_400_000),
      PIPELINE_RETRY_BASE_MS: intVar(200, 1, 600_000),
      PIPELINE_RETRY_MAX_MS: intVar(30_000, 1, 3_600_000),
      PIPELINE_BREAKER_FAILURES: intVar(5, 1, 10_000),
      PIPELINE_BREAKER_OPEN_MS: intVar(10_000, 1, 3_600_000),
      PIPELINE_SHUTDOWN_TIMEOUT_MS: intVar(10_000, 100, 600_000),
      STREAM_MAX_LEN: intVar(0, 0),
      STREAM_MAX_AGE_MS: intVar(0, 0),
      METRICS_PORT: intVar(9464, 0, 65_535),
      LOG_LEVEL: enumVar(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
      PIPELINE_CONSUMER_NAME: optionalStringVar().refine((s) => s === undefined || /^[A-Za-z0-9._:-]{1,128}$/.test(s), {
        message: 'must be 1-128 characters: letters, digits, ".", "_", ":" or "-"',
      }),
    },
    env,
  );
  const trim: PipelineConfig['trim'] = {};
  if (v.STREAM_MAX_LEN > 0) trim.maxLength = v.STREAM_MAX_LEN;
  if (v.STREAM_MAX_AGE_MS > 0) trim.maxAgeMs = v.STREAM_MAX_AGE_MS;
  const config: PipelineConfig = {
    sinks: v.JOBSCOPE_SINKS.length > 0 ? v.JOBSCOPE_SINKS : defaultSinkNames(env),
    batchSize: v.PIPELINE_BATCH_SIZE,
    blockMs: v.PIPELINE_BLOCK_MS,
    maxDeliveries: v.PIPELINE_MAX_DELIVERIES,
    claimIdleMs: v.PIPELINE_CLAIM_IDLE_MS,
    retry: { baseMs: v.PIPELINE_RETRY_BASE_MS, maxMs: Math.max(v.PIPELINE_RETRY_BASE_MS, v.PIPELINE_RETRY_MAX_MS) },
    breaker: { failureThreshold: v.PIPELINE_BREAKER_FAILURES, openMs: v.PIPELINE_BREAKER_OPEN_MS },
    shutdownTimeoutMs: v.PIPELINE_SHUTDOWN_TIMEOUT_MS,
    trim,
    metricsPort: v.METRICS_PORT,
    logLevel: v.LOG_LEVEL,
  };
  if (v.PIPELINE_CONSUMER_NAME !== undefined) config.consumerName = v.PIPELINE_CONSUMER_NAME;
  return config;
}
