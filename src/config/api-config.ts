import { ConfigError } from '../errors.js';
import { boolVar, intVar, optionalStringVar, readEnv, stringVar, urlVar, type Env } from './env-schema.js';

/** Configuration of the API process (`jobscope api`). */
export interface ApiConfig {
  /** `PORT`, default 3000. */
  port: number;
  /** `HOST`, default `0.0.0.0`. */
  host: string;
  /** `JOBSCOPE_API_TOKEN`: bearer token for the API. */
  token?: string;
  /** `JOBSCOPE_API_ALLOW_ANONYMOUS`: serve without a token (local use), default false. */
  allowAnonymous: boolean;
  /** `JOBSCOPE_JOB_TOKEN_SECRET`: signs per-job tokens; default derived from the API token. */
  jobTokenSecret?: string;
  /** `JOBSCOPE_METRICS_PUBLIC`: serve /metrics without a token, default false. */
  publicMetrics: boolean;
  /** `JOBSCOPE_TRACE_URL_TEMPLATE`, e.g. `https://grafana/explore?traceId={traceId}`. */
  traceUrlTemplate?: string;
  /** `JOBSCOPE_SENTRY_URL_TEMPLATE`, e.g. `https://sentry.io/…/?query=job_id:{jobId}`. */
  sentryUrlTemplate?: string;
  /** `STUCK_THRESHOLD_MS`, default 600000 (10 min). */
  stuckThresholdMs: number;
  /** Per-service thresholds from `STUCK_THRESHOLDS=svc=ms,…` and `STUCK_THRESHOLD_<SERVICE>_MS`. */
  stuckThresholdsByService: Record<string, number>;
  /** `QUEUE_WAIT_THRESHOLD_MS`, default 300000 (5 min). */
  queueWaitThresholdMs: number;
  /** `STUCK_CHECK_INTERVAL_MS`: stuck detection interval, default 15000. */
  stuckCheckIntervalMs: number;
  /** `SSE_KEEPALIVE_MS`, default 15000. */
  sseKeepAliveMs: number;
  /** `API_SHUTDOWN_TIMEOUT_MS`: drain deadline on SIGTERM, default 5000. */
  shutdownTimeoutMs: number;
  /** `JOBSCOPE_INSIGHTS_MAX_JOBS`: most jobs `/api/stats` and `/api/errors` read per request (the newest first), default 10000. */
  insightsMaxJobs: number;
}

const HOUR_MS = 3_600_000;

/** Parses `comfyui=600000,openai=120000`; a bad item names `STUCK_THRESHOLDS`. */
export function parseThresholdList(raw: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (raw === undefined || raw.trim() === '') return out;
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9._-]{1,64})=(\d{1,10})$/.exec(item);
    if (!m || Number(m[2]) < 1000) throw new ConfigError('STUCK_THRESHOLDS', `"${item.slice(0, 80)}" must be <serviceType>=<milliseconds ≥ 1000>, comma-separated`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Reads `STUCK_THRESHOLD_<SERVICE>_MS` variables (service lower-cased). */
function perServiceThresholds(env: Env): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(env)) {
    const m = /^STUCK_THRESHOLD_([A-Z0-9_]+)_MS$/.exec(name);
    if (!m || value === undefined || value.trim() === '') continue;
    if (!/^\d{4,10}$/.test(value.trim())) throw new ConfigError(name, 'must be a whole number of milliseconds, at least 1000');
    out[m[1]!.toLowerCase()] = Number(value.trim());
  }
  return out;
}

/** Reads {@link ApiConfig}; fails when neither a token nor anonymous access is set. */
export function loadApiConfig(env: Env): ApiConfig {
  const v = readEnv(
    {
      PORT: intVar(3000, 0, 65535),
      HOST: stringVar('0.0.0.0'),
      JOBSCOPE_API_TOKEN: optionalStringVar().refine((s) => s === undefined || s.length >= 16, 'must be at least 16 characters'),
      JOBSCOPE_API_ALLOW_ANONYMOUS: boolVar(false),
      JOBSCOPE_JOB_TOKEN_SECRET: optionalStringVar().refine((s) => s === undefined || s.length >= 16, 'must be at least 16 characters'),
      JOBSCOPE_METRICS_PUBLIC: boolVar(false),
      JOBSCOPE_TRACE_URL_TEMPLATE: urlVar(['http:', 'https:']),
      JOBSCOPE_SENTRY_URL_TEMPLATE: urlVar(['http:', 'https:']),
      STUCK_THRESHOLD_MS: intVar(600_000, 1000, 30 * 24 * HOUR_MS),
      QUEUE_WAIT_THRESHOLD_MS: intVar(300_000, 1000, 30 * 24 * HOUR_MS),
      STUCK_CHECK_INTERVAL_MS: intVar(15_000, 100, HOUR_MS),
      SSE_KEEPALIVE_MS: intVar(15_000, 100, HOUR_MS),
      API_SHUTDOWN_TIMEOUT_MS: intVar(5000, 0, 10 * 60_000),
      JOBSCOPE_INSIGHTS_MAX_JOBS: intVar(10_000, 100, 1_000_000),
    },
    env,
  );
  if (v.JOBSCOPE_API_TOKEN === undefined && !v.JOBSCOPE_API_ALLOW_ANONYMOUS) {
    throw new ConfigError('JOBSCOPE_API_TOKEN', 'is not set; set JOBSCOPE_API_TOKEN to a secret, or set JOBSCOPE_API_ALLOW_ANONYMOUS=true to serve without one (local use only)', 'missing');
  }
  const config: ApiConfig = {
    port: v.PORT,
    host: v.HOST,
    allowAnonymous: v.JOBSCOPE_API_ALLOW_ANONYMOUS,
    publicMetrics: v.JOBSCOPE_METRICS_PUBLIC,
    stuckThresholdMs: v.STUCK_THRESHOLD_MS,
    stuckThresholdsByService: { ...perServiceThresholds(env), ...parseThresholdList(env.STUCK_THRESHOLDS) },
    queueWaitThresholdMs: v.QUEUE_WAIT_THRESHOLD_MS,
    stuckCheckIntervalMs: v.STUCK_CHECK_INTERVAL_MS,
    sseKeepAliveMs: v.SSE_KEEPALIVE_MS,
    shutdownTimeoutMs: v.API_SHUTDOWN_TIMEOUT_MS,
    insightsMaxJobs: v.JOBSCOPE_INSIGHTS_MAX_JOBS,
  };
  if (v.JOBSCOPE_API_TOKEN !== undefined) config.token = v.JOBSCOPE_API_TOKEN;
  if (v.JOBSCOPE_JOB_TOKEN_SECRET !== undefined) config.jobTokenSecret = v.JOBSCOPE_JOB_TOKEN_SECRET;
  if (v.JOBSCOPE_TRACE_URL_TEMPLATE !== undefined) config.traceUrlTemplate = v.JOBSCOPE_TRACE_URL_TEMPLATE;
  if (v.JOBSCOPE_SENTRY_URL_TEMPLATE !== undefined) config.sentryUrlTemplate = v.JOBSCOPE_SENTRY_URL_TEMPLATE;
  return config;
}
