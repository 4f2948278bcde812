import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../../../src/api/api-server.js';
import { statusKeys } from '../../../src/status/status-keys.js';
import type { FeedEntry } from '../../../src/status/types.js';
import { makeEvent } from '../../helpers/events.js';
import { cleanupPrefix, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';
import { lifecycle, seed, TOKEN } from './api-fixtures.js';
import { SseClient } from './sse-client.js';

let redis: Redis;
let prefix: string;
let server: ApiServer;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  redis = testRedis();
  prefix = testPrefix('sse');
  server = await startApiServer({
    redis,
    prefix,
    port: 0,
    host: '127.0.0.1',
    auth: { token: TOKEN },
    metricsRegistry: new Registry(),
    stuck: { autoStart: false },
    sse: { keepAliveMs: 150, blockMs: 500 },
  });
});

afterAll(async () => {
  await server.close();
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

async function feedIds(): Promise<string[]> {
  return (await redis.xrange(statusKeys(prefix).feed, '-', '+')).map(([id]) => id);
}

describe('GET /api/stream', () => {
  it('resumes after a disconnect from Last-Event-ID with every change exactly once, in order', async () => {
    await seed(redis, prefix, lifecycle({ id: 'before-connect' }));
    const startIds = await feedIds();
    const first = new SseClient(`${server.url}/api/stream?types=job`, auth);
    await first.open();
    expect(first.status).toBe(200);
    await seed(redis, prefix, lifecycle({ id: 'while-connected' }));
    await waitFor(() => first.events().length >= 3, { what: 'three live events' });
    expect(first.messages[0]).toMatchObject({ retry: '2000' });
    first.close();
    await waitFor(() => server.app.context.fanout.size === 0, { what: 'the disconnect to release the subscription' });

    await seed(redis, prefix, lifecycle({ id: 'while-away' }));
    const lastId = first.events().at(-1)!.id!;
    const second = new SseClient(`${server.url}/api/stream?types=job`, { ...auth, 'last-event-id': lastId });
    await second.open();
    await seed(redis, prefix, lifecycle({ id: 'after-reconnect' }));
    await waitFor(() => second.events().length >= 6, { what: 'catch-up and live events' });

    const all = await feedIds();
    const expected = all.filter((id) => !startIds.includes(id));
    const got = [...first.events(), ...second.events()].map((m) => m.id);
    expect(got).toEqual(expected);
    const jobs = second.events().map((m) => (JSON.parse(m.data!) as { jobId: string }).jobId);
    expect(jobs).toEqual(['while-away', 'while-away', 'while-away', 'after-reconnect', 'after-reconnect', 'after-reconnect']);
    expect(second.events().every((m) => m.event === 'job')).toBe(true);
    second.close();
  });

  it('sends keep-alive comments while nothing changes', async () => {
    const client = new SseClient(`${server.url}/api/stream?access_token=${TOKEN}`);
    await client.open();
    await waitFor(() => client.messages.filter((m) => m.comment === 'keep-alive').length >= 2, { what: 'keep-alive comments' });
    client.close();
  });

  it('filters by job and state, and lets a job token follow its own job only', async () => {
    const minted = await fetch(`${server.url}/api/job-tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ jobId: 'mine' }) });
    const { token } = (await minted.json()) as { token: string };
    const denied = await fetch(`${server.url}/api/stream?job=someone-else&access_token=${token}`);
    expect(denied.status).toBe(403);
    await denied.body?.cancel();

    const mine = new SseClient(`${server.url}/api/stream?job=mine&access_token=${token}`);
    const completed = new SseClient(`${server.url}/api/stream?state=completed`, auth);
    await Promise.all([mine.open(), completed.open()]);
    await seed(redis, prefix, [...lifecycle({ id: 'other' }), ...lifecycle({ id: 'mine' })]);
    await waitFor(() => mine.events().length >= 3 && completed.events().length >= 2, { what: 'filtered events' });
    expect(mine.events().map((m) => (JSON.parse(m.data!) as { jobId: string }).jobId)).toEqual(['mine', 'mine', 'mine']);
    expect(completed.events().map((m) => (JSON.parse(m.data!) as { jobId: string }).jobId)).toEqual(['other', 'mine']);
    mine.close();
    completed.close();
    await waitFor(() => server.app.context.fanout.size === 0, { what: 'all clients released' });
  });

  it('says on a job.failed whether a retry follows that attempt', async () => {
    const client = new SseClient(`${server.url}/api/stream?job=retried&types=job`, auth);
    await client.open();
    const job = (attempt: number) => ({ id: 'retried', attempt, queue: 'images' });
    const error = { type: 'TimeoutError', category: 'timeout' as const, message: 'timed out' };
    const t = Date.now();
    await seed(redis, prefix, [
      makeEvent({ type: 'job.started', job: job(1), time: t }),
      makeEvent({ type: 'job.failed', job: job(1), time: t + 1, level: 'error', data: { durationMs: 1, error, willRetry: true } }),
      makeEvent({ type: 'job.retrying', job: job(1), time: t + 2, data: { nextAttempt: 2, delayMs: 10 } }),
      makeEvent({ type: 'job.started', job: job(2), time: t + 3 }),
      makeEvent({ type: 'job.failed', job: job(2), time: t + 4, level: 'error', data: { durationMs: 1, error, willRetry: false } }),
    ]);
    await waitFor(() => client.events().length >= 5, { what: 'five job events' });
    const data = client.events().map((m) => JSON.parse(m.data!) as FeedEntry);
    expect(data.map((e) => [e.eventType, e.state, e.attempt, e.willRetry])).toEqual([
      ['job.started', 'running', 1, undefined],
      ['job.failed', 'failed', 1, true],
      ['job.retrying', 'retrying', 1, undefined],
      ['job.started', 'running', 2, undefined],
      ['job.failed', 'failed', 2, false],
    ]);
    client.close();
    await waitFor(() => server.app.context.fanout.size === 0, { what: 'the client released' });
  });

  it('ends open streams when the server closes', async () => {
    const own = await startApiServer({ redis, prefix, port: 0, host: '127.0.0.1', auth: { token: TOKEN }, metricsRegistry: new Registry(), stuck: { autoStart: false } });
    const client = new SseClient(`${own.url}/api/stream`, auth);
    await client.open();
    const started = Date.now();
    await own.close();
    await waitFor(() => client.ended, { what: 'the stream to end' });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(client.messages.at(-1)?.comment).toMatch(/reconnect with Last-Event-ID/);
  });
});
