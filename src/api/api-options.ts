import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { StatusReader } from '../status/types.js';
import type { StuckDetectorOptions } from '../stuck/stuck-detector.js';
import type { AuthOptions } from './auth/auth-middleware.js';

/** Where the API logs what goes wrong (a pino logger fits). */
export interface ApiLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Everything the API needs. Build it from `loadApiConfig` + `loadRedisConfig` in a worker. */
export interface ApiOptions {
  /** Shared connection for queries (never used for blocking reads). */
  redis: Redis;
  /** Key prefix (`JOBSCOPE_PREFIX`). */
  prefix: string;
  /** Number of event stream shards, for DLQ replay. Default 1. */
  shards?: number;
  auth: AuthOptions;
  /** URL templates with `{traceId}`, `{jobId}`, `{eventId}` placeholders. */
  links?: { traceUrlTemplate?: string; sentryUrlTemplate?: string };
  /** Stuck detection; `autoStart` (default true) runs the periodic pass. */
  stuck?: Omit<StuckDetectorOptions, 'reader' | 'registry' | 'onError'> & { autoStart?: boolean };
  /** Registry served on `/metrics` and holding the read-side gauges. Default: a new one. */
  metricsRegistry?: Registry;
  sse?: {
    /** Interval of `: keep-alive` comments, ms. Default 15000. */
    keepAliveMs?: number;
    /** Live entries queued per client before it is cut off. Default 1000. */
    maxQueuePerClient?: number;
    /** One blocking feed read, ms. Default 5000. */
    blockMs?: number;
  };
  /** Most jobs scanned by `/api/errors` and `/api/stats`. Default 10000. */
  insightsMaxJobs?: number;
  /** Directory of the dashboard's static files. Default: `src/api/dashboard` beside this module. */
  dashboardDir?: string;
  /** Builds a status reader on a connection; default `createStatusReader`. */
  createReader?: (redis: Redis) => StatusReader;
  logger?: ApiLogger;
}
