import { Hono } from 'hono';
import { groupErrors } from '../../insights/error-groups.js';
import { scanJobWindow } from '../../insights/job-window.js';
import { computeJobStats } from '../../insights/job-stats.js';
import type { ApiContext, ApiEnv } from '../api-context.js';
import { requireApiToken } from '../auth/auth-middleware.js';
import { idParam, intParam } from '../params.js';

const DAY_MS = 86_400_000;
const MAX_WINDOW_MS = 30 * DAY_MS;

/** `GET /api/errors` (failures grouped by fingerprint) and `GET /api/stats` (figures over a window). */
export function insightsRoutes(ctx: ApiContext): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const maxJobs = ctx.options.insightsMaxJobs ?? 10_000;

  app.get('/api/errors', async (c) => {
    requireApiToken(c.get('principal'));
    const q = c.req.query();
    const windowMs = intParam(q, 'window', DAY_MS, 1000, MAX_WINDOW_MS);
    const service = idParam(q, 'service');
    const now = Date.now();
    const scan = await scanJobWindow(ctx.reader, {
      filter: service === undefined ? {} : { serviceType: service },
      fromMs: now - windowMs,
      toMs: now,
      maxJobs,
    });
    return c.json({ windowMs, groups: groupErrors(scan.jobs), scanned: scan.jobs.length, capped: scan.capped });
  });

  app.get('/api/stats', async (c) => {
    requireApiToken(c.get('principal'));
    const windowMs = intParam(c.req.query(), 'window', 3_600_000, 60_000, MAX_WINDOW_MS);
    const now = Date.now();
    const [scan, jobsByState, dataFromMs] = await Promise.all([
      scanJobWindow(ctx.reader, { fromMs: now - windowMs, toMs: now, maxJobs }),
      ctx.reader.countByState(),
      ctx.reader.oldestUpdatedAt(),
    ]);
    return c.json(computeJobStats(scan.jobs, { windowMs, toMs: now, capped: scan.capped, ...(dataFromMs !== undefined ? { dataFromMs } : {}) }, jobsByState));
  });

  return app;
}
