import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../../src/api/api-app.js';
import { mintJobToken, deriveJobTokenSecret } from '../../../src/api/auth/job-token.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../helpers/redis.js';
import { bearer, lifecycle, seed, testApp, TOKEN } from './api-fixtures.js';

let redis: Redis;
let prefix: string;
let app: ApiApp;
const now = Date.now();

beforeAll(async () => {
  redis = testRedis();
  prefix = testPrefix('api');
  await seed(redis, prefix, [
    ...lifecycle({ id: 'img-001', time: now - 5000, durationMs: 1000, model: 'sdxl', costUsd: 0.01 }),
    ...lifecycle({ id: 'img-002', time: now - 4000, durationMs: 3000, model: 'sdxl', costUsd: 0.02 }),
    ...lifecycle({ id: 'img-003', time: now - 3000, until: 'failed', errorMessage: 'request 1234 timed out after 30000 ms' }),
    ...lifecycle({ id: 'img-004', time: now - 2500, until: 'failed', errorMessage: 'request 98 timed out after 60000 ms' }),
    ...lifecycle({ id: 'chat-001', time: now - 2000, service: 'openai', machine: 'machine-2', worker: 'worker-9', until: 'running' }),
  ]);
  app = testApp(redis, prefix, { links: { traceUrlTemplate: 'https://traces.example/trace/{traceId}', sentryUrlTemplate: 'https://sentry.example/issues/?query=job_id:{jobId}' } });
});

afterAll(async () => {
  await app.close();
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field below
type Body = Record<string, any>;

async function json(res: Response): Promise<Body> {
  return (await res.json()) as Body;
}

describe('auth', () => {
  it('rejects a request without a token, naming how to send one', async () => {
    const res = await app.request('/api/jobs');
    expect(res.status).toBe(401);
    expect((await json(res)).error.code).toBe('unauthorized');
  });

  it('rejects a wrong token, and accepts the right one as bearer or access_token', async () => {
    expect((await app.request('/api/jobs', bearer('wrong-token-wrong-token'))).status).toBe(401);
    expect((await app.request('/api/jobs', bearer())).status).toBe(200);
    expect((await app.request(`/api/jobs?access_token=${TOKEN}`)).status).toBe(200);
  });

  it('lets a job token read its own job only', async () => {
    const { token } = await json(await app.request('/api/job-tokens', { method: 'POST', ...bearer(), body: JSON.stringify({ jobId: 'img-001', ttlSeconds: 60 }) }));
    expect((await app.request('/api/jobs/img-001', bearer(token))).status).toBe(200);
    const other = await app.request('/api/jobs/img-002', bearer(token));
    expect(other.status).toBe(403);
    expect((await json(other)).error.code).toBe('forbidden');
    expect((await app.request('/api/jobs', bearer(token))).status).toBe(403);
    expect((await app.request('/api/workers', bearer(token))).status).toBe(403);
    expect((await app.request('/api/job-tokens', { method: 'POST', ...bearer(token), body: '{"jobId":"img-002"}' })).status).toBe(403);
  });

  it('rejects an expired job token with token_expired, and a forged one', async () => {
    const secret = deriveJobTokenSecret(TOKEN);
    const expired = mintJobToken(secret, 'img-001', 60, Date.now() - 120_000).token;
    const res = await app.request('/api/jobs/img-001', bearer(expired));
    expect(res.status).toBe(401);
    expect((await json(res)).error.code).toBe('token_expired');
    const forged = mintJobToken('another-secret-0123456789', 'img-001', 60).token;
    expect((await app.request('/api/jobs/img-001', bearer(forged))).status).toBe(401);
  });

  it('refuses to start with neither a token nor anonymous access', () => {
    expect(() => testApp(redis, prefix, { auth: {} })).toThrow(/JOBSCOPE_API_ALLOW_ANONYMOUS=true/);
  });

  it('serves everything without a token when anonymous access was chosen', async () => {
    const anon = testApp(redis, prefix, { auth: { allowAnonymous: true } });
    expect((await anon.request('/api/jobs')).status).toBe(200);
    await anon.close();
  });

  it('serves health and the OpenAPI document without a token', async () => {
    expect(await json(await app.request('/healthz'))).toEqual({ ok: true });
    expect(await json(await app.request('/readyz'))).toEqual({ ok: true, redis: 'ok' });
    expect((await app.request('/openapi.json')).status).toBe(200);
    expect((await app.request('/metrics')).status).toBe(401);
  });
});

describe('bad parameters get a 400 naming the parameter', () => {
  const cases: [string, string][] = [
    ['/api/jobs?limit=0', 'limit'],
    ['/api/jobs?limit=abc', 'limit'],
    ['/api/jobs?state=sleeping', 'state'],
    ['/api/jobs?from=yesterday', 'from'],
    ['/api/jobs?from=2000&to=1000', 'from'],
    ['/api/jobs?cursor=not-a-cursor', 'cursor'],
    ['/api/errors?window=-5', 'window'],
    ['/api/stats?window=10', 'window'],
    ['/api/dlq?limit=1000', 'limit'],
    ['/api/dlq?cursor=zzz', 'cursor'],
    ['/api/stream?types=job,cats', 'types'],
    ['/api/stream?state=nope', 'state'],
  ];
  it.each(cases)('%s → 400 naming "%s"', async (url, name) => {
    const res = await app.request(url, bearer());
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe('bad_parameter');
    expect(body.error.message).toContain(`"${name}"`);
  });

  it('rejects bad job-token and replay bodies', async () => {
    const post = (url: string, body: string) => app.request(url, { method: 'POST', ...bearer(), body });
    expect((await json(await post('/api/job-tokens', '{"ttlSeconds":5}'))).error.message).toContain('"jobId"');
    expect((await json(await post('/api/job-tokens', '{"jobId":"a","ttlSeconds":0}'))).error.message).toContain('"ttlSeconds"');
    expect((await post('/api/job-tokens', 'not json')).status).toBe(400);
    expect((await json(await post('/api/dlq/replay', '{}'))).error.message).toContain('"ids"');
  });
});

describe('jobs', () => {
  it('lists newest first and filters by state, service, machine and id prefix', async () => {
    const all = await json(await app.request('/api/jobs', bearer()));
    expect(all.jobs.map((j: { id: string }) => j.id)).toEqual(['chat-001', 'img-004', 'img-003', 'img-002', 'img-001']);
    const failed = await json(await app.request('/api/jobs?state=failed', bearer()));
    expect(failed.jobs.map((j: { id: string }) => j.id)).toEqual(['img-004', 'img-003']);
    const openai = await json(await app.request('/api/jobs?service=openai&machine=machine-2', bearer()));
    expect(openai.jobs.map((j: { id: string }) => j.id)).toEqual(['chat-001']);
    const prefixed = await json(await app.request('/api/jobs?q=img-00', bearer()));
    expect(prefixed.jobs).toHaveLength(4);
  });

  it('pages with a cursor without gaps or repeats', async () => {
    const seen: string[] = [];
    let url = '/api/jobs?limit=2';
    for (let i = 0; i < 5; i++) {
      const page = await json(await app.request(url, bearer()));
      seen.push(...page.jobs.map((j: { id: string }) => j.id));
      if (!page.nextCursor) break;
      url = `/api/jobs?limit=2&cursor=${encodeURIComponent(page.nextCursor as string)}`;
    }
    expect(seen).toEqual(['chat-001', 'img-004', 'img-003', 'img-002', 'img-001']);
  });

  it('shows one job with its timeline and trace/Sentry links', async () => {
    const body = await json(await app.request('/api/jobs/img-003', bearer()));
    expect(body.job.state).toBe('failed');
    expect(body.job.lastError.message).toContain('timed out');
    expect(body.timeline.map((t: { type: string }) => t.type)).toEqual(['job.received', 'job.started', 'job.failed']);
    expect(body.links.trace).toBe('https://traces.example/trace/4bf92f3577b34da6a3ce929d0e0e4736');
    expect(body.links.sentry).toBe('https://sentry.example/issues/?query=job_id:img-003');
  });

  it('answers 404 for an unknown job and an unknown route', async () => {
    const res = await app.request('/api/jobs/nope', bearer());
    expect(res.status).toBe(404);
    const error = (await json(res)).error;
    expect(error.code).toBe('not_found');
    // A job still queued has no events yet: the answer says so, not only that it may have expired.
    expect(error.message).toMatch(/no worker has taken it yet .* or its record expired \(STATUS_RETENTION_MS\)/);
    expect((await app.request('/api/nothing', bearer())).status).toBe(404);
  });
});

describe('workers, errors, stats, stuck, metrics', () => {
  it('shows the machine → worker → service tree with liveness', async () => {
    const body = await json(await app.request('/api/workers', bearer()));
    const m2 = body.machines.find((m: { machineId: string }) => m.machineId === 'machine-2');
    expect(m2.workers[0]).toMatchObject({ workerId: 'worker-9', liveness: 'busy', currentJobs: ['chat-001'] });
    expect(m2.workers[0].services).toEqual([{ serviceType: 'openai', connectorId: 'openai-local' }]);
    expect(body.counts.busy).toBeGreaterThanOrEqual(1);
  });

  it('groups failures that differ only in numbers', async () => {
    const body = await json(await app.request('/api/errors', bearer()));
    expect(body.groups).toHaveLength(1);
    expect(body.groups[0]).toMatchObject({ serviceType: 'comfyui', errorType: 'TimeoutError', category: 'timeout', count: 2, exampleJobId: 'img-004', message: 'request <n> timed out after <n> ms' });
    expect((await json(await app.request('/api/errors?service=openai', bearer()))).groups).toEqual([]);
  });

  it('computes throughput, durations, error rate and cost over the window', async () => {
    const body = await json(await app.request('/api/stats?window=600000', bearer()));
    expect(body.windowMs).toBe(600000);
    expect(body.buckets.length).toBeLessThanOrEqual(60);
    expect(body.buckets.reduce((n: number, b: { completed: number }) => n + b.completed, 0)).toBe(2);
    expect(body.errorRate).toBe(0.5);
    expect(body.durationMs).toEqual({ p50: 1000, p95: 3000 });
    expect(body.costUsd.total).toBeCloseTo(0.03);
    expect(body.costUsd.byModel.sdxl).toBeCloseTo(0.03);
    expect(body.jobsByState).toMatchObject({ completed: 2, failed: 2, running: 1 });
    // The store's data begins ~5 s ago (its first job), inside the 10-minute window: throughput is
    // over those seconds, not over 10 minutes that hold nothing.
    expect(body.throughputSpanMs).toBeGreaterThanOrEqual(4000);
    expect(body.throughputSpanMs).toBeLessThanOrEqual(Date.now() - now + 6000);
    expect(body.throughputPerMin).toBeCloseTo(4 / (body.throughputSpanMs / 60_000), 6);
    expect(body.throughputPerMin).toBeGreaterThan(4 / 10);
  });

  it('lists nothing stuck for fresh jobs, with the thresholds', async () => {
    const body = await json(await app.request('/api/stuck', bearer()));
    expect(body).toMatchObject({ stuck: [], orphaned: [], waitingTooLong: [], thresholds: { default: 600000 } });
  });

  it('serves Prometheus text with the read-side gauges', async () => {
    const res = await app.request('/metrics', bearer());
    const text = await res.text();
    expect(text).toContain('jobscope_jobs_by_state{state="running"} 1');
    expect(text).toContain('jobscope_workers{liveness="busy"}');
  });
});
