import { Hono } from 'hono';
import type { ApiContext, ApiEnv } from '../api-context.js';

/** How long `/readyz` waits for Redis, ms. */
export const READY_TIMEOUT_MS = 2000;

async function pingWithin(ctx: ApiContext, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref();
  });
  try {
    await Promise.race([ctx.redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `GET /healthz` (the process answers), `GET /readyz` (Redis answers), `GET /metrics`. */
export function healthRoutes(ctx: ApiContext): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/healthz', (c) => c.json({ ok: true }));

  app.get('/readyz', async (c) => {
    try {
      await pingWithin(ctx, READY_TIMEOUT_MS);
      return c.json({ ok: true, redis: 'ok' });
    } catch (err) {
      return c.json({ ok: false, redis: 'unreachable', error: (err as Error).message.slice(0, 200) }, 503);
    }
  });

  app.get('/metrics', async (c) => {
    // Fresh read-side gauges for the scrape; a failing store must not hide the other metrics.
    await ctx.detector.current().catch((err: unknown) => ctx.logger?.warn({ err }, 'stuck detection failed before a scrape'));
    return c.body(await ctx.registry.metrics(), 200, { 'Content-Type': ctx.registry.contentType });
  });
  return app;
}
