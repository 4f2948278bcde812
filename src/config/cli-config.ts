import { intVar, optionalStringVar, readEnv, urlVar, type Env } from './env-schema.js';

/** Where the `jobscope` CLI finds the API, and the sink endpoints `jobscope doctor` probes. */
export interface CliConfig {
  /** `JOBSCOPE_API_URL`: base URL of the Jobscope API, default `http://127.0.0.1:3000`. */
  apiUrl: string;
  /** `JOBSCOPE_API_TOKEN`: bearer token for the API; unset = anonymous (the API must allow it). */
  apiToken?: string;
  /** `FLUENTD_HOST` / `FLUENTD_PORT` (default 24224): probed by `doctor` when the host is set. */
  fluentd?: { host: string; port: number };
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): probed by `doctor` when set. */
  otlpEndpoint?: string;
  /** `SENTRY_DSN`: its host is probed by `doctor` when set. */
  sentryDsn?: string;
}

/** Reads {@link CliConfig} from the environment. */
export function loadCliConfig(env: Env): CliConfig {
  const v = readEnv(
    {
      JOBSCOPE_API_URL: urlVar(['http:', 'https:']),
      JOBSCOPE_API_TOKEN: optionalStringVar(),
      FLUENTD_HOST: optionalStringVar(),
      FLUENTD_PORT: intVar(24224, 1, 65535),
      OTEL_EXPORTER_OTLP_ENDPOINT: urlVar(['http:', 'https:']),
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: urlVar(['http:', 'https:']),
      SENTRY_DSN: urlVar(['http:', 'https:']),
    },
    env,
  );
  return {
    apiUrl: (v.JOBSCOPE_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    apiToken: v.JOBSCOPE_API_TOKEN,
    fluentd: v.FLUENTD_HOST ? { host: v.FLUENTD_HOST, port: v.FLUENTD_PORT } : undefined,
    otlpEndpoint: v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? v.OTEL_EXPORTER_OTLP_ENDPOINT,
    sentryDsn: v.SENTRY_DSN,
  };
}
