import { ConfigError } from '../errors.js';
import { intVar, numberVar, optionalStringVar, readEnv, urlVar, type Env } from './env-schema.js';

/** Configuration of the OpenTelemetry traces sink, read from the standard OTel variables. */
export interface OtelConfig {
  /** True when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set. */
  enabled: boolean;
  /**
   * Full URL spans are POSTed to: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else
   * `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. Undefined when the sink is off.
   */
  tracesUrl?: string;
  /** `OTEL_EXPORTER_OTLP_HEADERS`: `k=v,k2=v2` (values URL-decoded), sent with every export. */
  headers: Record<string, string>;
  /** `OTEL_EXPORTER_OTLP_TIMEOUT`: export timeout in ms, default 10000. */
  timeoutMs: number;
  /** `OTEL_SERVICE_NAME`: overrides `service.name` (default `jobscope-<serviceType>` per event). */
  serviceName?: string;
  /** `JOBSCOPE_TRACE_SAMPLE_RATIO`: share of attempts exported, 0–1, default 1. Failed attempts are always kept. */
  sampleRatio: number;
  /** `DEPLOYMENT_ENVIRONMENT`, else `RAILWAY_ENVIRONMENT_NAME`, else `development`. */
  environment: string;
}

/** Parses `k=v,k2=v2` (the OTLP headers format; values may be percent-encoded). */
export function parseOtlpHeaders(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined || raw.trim() === '') return out;
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError('OTEL_EXPORTER_OTLP_HEADERS', `"${part.trim().slice(0, 40)}" is not key=value`);
    const key = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      throw new ConfigError('OTEL_EXPORTER_OTLP_HEADERS', `the value of "${key}" is not valid percent-encoding`);
    }
    out[key] = value;
  }
  return out;
}

/** Reads {@link OtelConfig} from the environment. */
export function loadOtelConfig(env: Env): OtelConfig {
  const v = readEnv(
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: urlVar(['http:', 'https:']),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: urlVar(['http:', 'https:']),
      OTEL_EXPORTER_OTLP_HEADERS: optionalStringVar(),
      OTEL_EXPORTER_OTLP_TIMEOUT: intVar(10_000, 1, 600_000),
      OTEL_SERVICE_NAME: optionalStringVar(),
      JOBSCOPE_TRACE_SAMPLE_RATIO: numberVar(1, 0, 1),
      DEPLOYMENT_ENVIRONMENT: optionalStringVar(),
      RAILWAY_ENVIRONMENT_NAME: optionalStringVar(),
    },
    env,
  );
  const base = v.OTEL_EXPORTER_OTLP_ENDPOINT;
  const tracesUrl = v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  return {
    enabled: tracesUrl !== undefined,
    tracesUrl,
    headers: parseOtlpHeaders(v.OTEL_EXPORTER_OTLP_HEADERS),
    timeoutMs: v.OTEL_EXPORTER_OTLP_TIMEOUT,
    serviceName: v.OTEL_SERVICE_NAME,
    sampleRatio: v.JOBSCOPE_TRACE_SAMPLE_RATIO,
    environment: v.DEPLOYMENT_ENVIRONMENT ?? v.RAILWAY_ENVIRONMENT_NAME ?? 'development',
  };
}
