import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { StatusReader } from '../status/types.js';
import type { StuckDetector } from '../stuck/stuck-detector.js';
import type { AuthVariables } from './auth/auth-middleware.js';
import type { ApiLogger, ApiOptions } from './api-options.js';
import type { FeedFanout } from './sse/feed-fanout.js';

/** Hono environment of every route: the auth principal. */
export interface ApiEnv {
  Variables: AuthVariables;
}

/** What route modules share: built once by `createApiApp`. */
export interface ApiContext {
  options: ApiOptions;
  redis: Redis;
  prefix: string;
  reader: StatusReader;
  detector: StuckDetector;
  fanout: FeedFanout;
  registry: Registry;
  logger: ApiLogger | undefined;
  /** SSE handlers still running; `close()` waits for them to write their last words. */
  openStreams: Set<Promise<void>>;
}
