import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { createStatusReader } from '../status/status-reader.js';
import { statusKeys } from '../status/status-keys.js';
import { createStuckDetector } from '../stuck/stuck-detector.js';
import type { ApiContext, ApiEnv } from './api-context.js';
import { ApiError, errorBody } from './api-error.js';
import type { ApiOptions } from './api-options.js';
import { createAuthMiddleware } from './auth/auth-middleware.js';
import { openApiDocument } from './openapi-document.js';
import { dashboardRoute } from './routes/dashboard-route.js';
import { dlqRoutes } from './routes/dlq-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { insightsRoutes } from './routes/insights-routes.js';
import { jobTokensRoute } from './routes/job-tokens-route.js';
import { jobsRoutes } from './routes/jobs-routes.js';
import { streamRoute } from './routes/stream-route.js';
import { stuckRoute } from './routes/stuck-route.js';
import { workersRoute } from './routes/workers-route.js';
import { createFeedFanout } from './sse/feed-fanout.js';

/** How long `close()` waits for SSE handlers to end, ms. */
const CLOSE_STREAMS_TIMEOUT_MS = 2000;

/** The API: a Hono app plus what it holds open. */
export type ApiApp = Hono<ApiEnv> & {
  /** Shared state of the routes (reader, stuck detector, live feed). */
  readonly context: ApiContext;
  /** Ends SSE streams, stops the detector, releases the feed connection. Idempotent. */
  close(): Promise<void>;
};

/** The default dashboard directory: `dashboard/` beside this module (in src/ and in dist/). */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('./dashboard/', import.meta.url));

function buildContext(options: ApiOptions): ApiContext {
  const makeReader = options.createReader ?? ((redis) => createStatusReader({ redis, prefix: options.prefix }));
  const reader = makeReader(options.redis);
  const registry = options.metricsRegistry ?? new Registry();
  const logger = options.logger;
  const detector = createStuckDetector({
    ...options.stuck,
    reader,
    registry,
    onError: (err) => logger?.error({ err }, 'stuck detection pass failed; retrying at the next interval'),
  });
  const fanout = createFeedFanout({
    redis: options.redis,
    feedKey: statusKeys(options.prefix).feed,
    openBlockingReader: () => {
      const conn = options.redis.duplicate();
      return { reader: makeReader(conn), close: () => conn.disconnect() };
    },
    blockMs: options.sse?.blockMs,
    maxQueuePerClient: options.sse?.maxQueuePerClient,
    onError: (err) => logger?.error({ err }, 'live feed read failed; retrying'),
  });
  return { options, redis: options.redis, prefix: options.prefix, reader, detector, fanout, registry, logger, openStreams: new Set() };
}

/**
 * Creates the Jobscope HTTP API (REST, SSE, /metrics, health, OpenAPI, dashboard). Throws a
 * ConfigError when neither an API token nor anonymous access is configured.
 */
export function createApiApp(options: ApiOptions): ApiApp {
  const auth = createAuthMiddleware(options.auth);
  const ctx = buildContext(options);
  const app = new Hono<ApiEnv>();
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json(errorBody(err.code, err.message), err.status);
    ctx.logger?.error({ err, path: c.req.path }, 'API request failed');
    return c.json(errorBody('internal', `Internal error: ${err.message.slice(0, 300)}`), 500);
  });
  app.use('*', auth);
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  for (const routes of [healthRoutes, jobsRoutes, jobTokensRoute, workersRoute, insightsRoutes, stuckRoute, dlqRoutes, streamRoute]) {
    app.route('/', routes(ctx));
  }
  app.route('/', dashboardRoute(options.dashboardDir ?? DEFAULT_DASHBOARD_DIR));
  app.notFound((c) => c.json(errorBody('not_found', `No route ${c.req.method} ${c.req.path}`), 404));
  if (options.stuck?.autoStart !== false) ctx.detector.start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ctx.fanout.close();
      ctx.detector.close();
      // Each SSE handler now writes a closing comment and ends; give them a moment to do so.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_STREAMS_TIMEOUT_MS).unref()));
      await Promise.race([Promise.allSettled([...ctx.openStreams]), deadline]);
      clearTimeout(timer);
      await new Promise((resolve) => setImmediate(resolve));
    })();
    return closing;
  };
  return Object.assign(app, { context: ctx, close });
}
