import { Hono } from 'hono';
import type { ApiContext, ApiEnv } from '../api-context.js';
import { requireApiToken } from '../auth/auth-middleware.js';
import { toJobView } from './jobs-routes.js';

/** `GET /api/stuck`: the detector's last pass (refreshed when stale). */
export function stuckRoute(ctx: ApiContext): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/api/stuck', async (c) => {
    requireApiToken(c.get('principal'));
    const s = await ctx.detector.current();
    const view = (jobs: typeof s.stuck) => jobs.map((j) => toJobView(ctx, j));
    return c.json({
      stuck: view(s.stuck),
      orphaned: view(s.orphaned),
      waitingTooLong: view(s.waitingTooLong),
      thresholds: s.thresholds,
      checkedAt: s.at,
      capped: s.capped,
    });
  });
  return app;
}
