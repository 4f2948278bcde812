import { Hono } from 'hono';
import type { ApiContext, ApiEnv } from '../api-context.js';
import { badParameter } from '../api-error.js';
import { requireApiToken } from '../auth/auth-middleware.js';
import { createDlqStore } from '../dlq/dlq-store.js';
import { intParam, streamIdParam } from '../params.js';
import { readJsonBody } from './json-body.js';

/** Most ids one replay request may name. */
export const MAX_REPLAY_IDS = 1000;

/** `GET /api/dlq` and `POST /api/dlq/replay`. */
export function dlqRoutes(ctx: ApiContext): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const store = createDlqStore({ redis: ctx.redis, prefix: ctx.prefix, shards: ctx.options.shards ?? 1 });

  app.get('/api/dlq', async (c) => {
    requireApiToken(c.get('principal'));
    const q = c.req.query();
    const limit = intParam(q, 'limit', 50, 1, 500);
    return c.json(await store.list(limit, streamIdParam(q.cursor, 'cursor')));
  });

  app.post('/api/dlq/replay', async (c) => {
    requireApiToken(c.get('principal'));
    const body = await readJsonBody(c.req.raw);
    if (body.all === true) return c.json({ replayed: await store.replayAll() });
    if (body.all !== undefined && typeof body.all !== 'boolean') throw badParameter('all', 'must be true or false');
    const ids = body.ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_REPLAY_IDS) {
      throw badParameter('ids', `must be a list of 1-${MAX_REPLAY_IDS} dead-letter ids, or send {"all": true}`);
    }
    for (const id of ids) if (typeof id !== 'string') throw badParameter('ids', 'must hold stream ids as strings');
    (ids as string[]).forEach((id) => streamIdParam(id, 'ids'));
    return c.json({ replayed: await store.replayIds(ids as string[]) });
  });

  return app;
}
