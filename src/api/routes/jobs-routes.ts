import { Hono } from 'hono';
import type { JobFilter, JobRecord } from '../../status/types.js';
import type { JobFlags } from '../../stuck/stuck-detector.js';
import { ValidationError } from '../../errors.js';
import type { ApiContext, ApiEnv } from '../api-context.js';
import { ApiError, badParameter } from '../api-error.js';
import { requireJobAccess } from '../auth/auth-middleware.js';
import { jobLinks } from '../links.js';
import { idParam, intParam, stateParam, timeParam, type Query } from '../params.js';

/** A job as the API shows it: its record and the detector's flags. */
export type JobView = JobRecord & { flags?: JobFlags };

/** Adds the detector's flags to a record. */
export function toJobView(ctx: ApiContext, job: JobRecord): JobView {
  const flags = ctx.detector.flagsFor(job.id);
  return flags ? { ...job, flags } : job;
}

function jobFilter(q: Query): JobFilter {
  const filter: JobFilter = {};
  const set = <K extends keyof JobFilter>(key: K, value: JobFilter[K] | undefined) => {
    if (value !== undefined) filter[key] = value;
  };
  set('state', stateParam(q));
  set('serviceType', idParam(q, 'service'));
  set('machineId', idParam(q, 'machine'));
  set('workerId', idParam(q, 'worker'));
  set('connectorId', idParam(q, 'connector'));
  set('model', idParam(q, 'model'));
  set('from', timeParam(q, 'from'));
  set('to', timeParam(q, 'to'));
  set('idPrefix', idParam(q, 'q'));
  if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) throw badParameter('from', 'must not be after "to"');
  return filter;
}

/** `GET /api/jobs`, `GET /api/jobs/:id`. */
export function jobsRoutes(ctx: ApiContext): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  app.get('/api/jobs', async (c) => {
    const q = c.req.query();
    const filter = jobFilter(q);
    const limit = intParam(q, 'limit', 50, 1, 500);
    const cursor = q.cursor === undefined || q.cursor === '' ? undefined : q.cursor;
    if (cursor !== undefined && cursor.length > 512) throw badParameter('cursor', 'is not a cursor this API returned');
    try {
      const page = await ctx.reader.listJobs(filter, cursor === undefined ? { limit } : { limit, cursor });
      const body: { jobs: JobView[]; nextCursor?: string } = { jobs: page.jobs.map((j) => toJobView(ctx, j)) };
      if (page.nextCursor !== undefined) body.nextCursor = page.nextCursor;
      return c.json(body);
    } catch (err) {
      if (err instanceof ValidationError) throw badParameter('cursor', 'is not a cursor this API returned');
      throw err;
    }
  });

  app.get('/api/jobs/:id', async (c) => {
    const id = c.req.param('id');
    requireJobAccess(c.get('principal'), id);
    const [job, timeline] = await Promise.all([ctx.reader.getJob(id), ctx.reader.getTimeline(id)]);
    if (!job) throw new ApiError(404, 'not_found', `No job "${id.slice(0, 256)}" in the status store: no worker has taken it yet (a job still waiting in its queue has no events), or its record expired (STATUS_RETENTION_MS)`);
    return c.json({ job: toJobView(ctx, job), timeline, links: jobLinks(job, ctx.options.links) });
  });

  return app;
}
