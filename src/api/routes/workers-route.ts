import { Hono } from 'hono';
import type { ApiContext, ApiEnv } from '../api-context.js';
import { requireApiToken } from '../auth/auth-middleware.js';
import { buildWorkerTree } from './worker-tree.js';

/** `GET /api/workers`: machines → workers → services, with liveness. */
export function workersRoute(ctx: ApiContext): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get('/api/workers', async (c) => {
    requireApiToken(c.get('principal'));
    return c.json(buildWorkerTree(await ctx.reader.listWorkers()));
  });
  return app;
}
