import { Hono } from 'hono';
import type { ApiContext, ApiEnv } from '../api-context.js';
import { badParameter } from '../api-error.js';
import { requireApiToken, resolveJobTokenSecret } from '../auth/auth-middleware.js';
import { MAX_JOB_TOKEN_TTL_SECONDS, mintJobToken } from '../auth/job-token.js';
import { readJsonBody } from './json-body.js';

/** Default lifetime of a job token: one hour. */
export const DEFAULT_JOB_TOKEN_TTL_SECONDS = 3600;

/** `POST /api/job-tokens` `{ jobId, ttlSeconds? }` → `{ token, expiresAt }` (API token only). */
export function jobTokensRoute(ctx: ApiContext): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const secret = resolveJobTokenSecret(ctx.options.auth);
  app.post('/api/job-tokens', async (c) => {
    requireApiToken(c.get('principal'));
    const body = await readJsonBody(c.req.raw);
    const jobId = body.jobId;
    // eslint-disable-next-line no-control-regex -- job ids never hold control characters
    if (typeof jobId !== 'string' || !/^[^\u0000-\u001f\u007f]{1,256}$/.test(jobId)) {
      throw badParameter('jobId', 'must be a job id: 1-256 characters without control characters');
    }
    const ttl = body.ttlSeconds ?? DEFAULT_JOB_TOKEN_TTL_SECONDS;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_JOB_TOKEN_TTL_SECONDS) {
      throw badParameter('ttlSeconds', `must be a whole number of seconds between 1 and ${MAX_JOB_TOKEN_TTL_SECONDS}`);
    }
    return c.json(mintJobToken(secret, jobId, ttl), 201);
  });
  return app;
}
