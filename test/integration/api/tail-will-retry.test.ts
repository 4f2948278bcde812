import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import * as tail from '../../../src/cli/commands/tail.js';
import { statusKeys } from '../../../src/status/status-keys.js';
import { makeEvent } from '../../helpers/events.js';
import { waitFor } from '../../helpers/redis.js';
import { startCliFixture, type CliFixture } from '../cli/cli-fixture.js';

/** `jobscope tail` against the real API: the feed says `failed` for both kinds of job.failed. */
describe('jobscope tail and job.failed', () => {
  let fx: CliFixture;
  // Every request the CLI makes goes through the global fetch: the stream and any job lookup.
  let fetchSpy: MockInstance<typeof fetch>;
  const jobLookups = (): string[] => fetchSpy.mock.calls.map(([url]) => String(url)).filter((url) => new URL(url).pathname.startsWith('/api/jobs/'));
  const error = { type: 'TimeoutError', category: 'timeout' as const, message: 'timed out' };

  beforeAll(async () => {
    fx = await startCliFixture('tail-retry');
  });
  afterAll(() => fx?.close());
  afterEach(() => fetchSpy?.mockRestore());

  it('marks a failure that a retry follows, and leaves the final one plain, without asking the API per failure', async () => {
    fetchSpy = vi.spyOn(globalThis, 'fetch');
    const t0 = Date.now() - 10_000;
    const attempt = (n: number) => ({ id: 'job-retry-1', attempt: n, queue: 'render' });
    const events = [
      makeEvent({ type: 'job.started', job: attempt(1), time: t0 }),
      makeEvent({ type: 'job.failed', job: attempt(1), time: t0 + 1000, level: 'error', data: { durationMs: 1000, error, willRetry: true } }),
      makeEvent({ type: 'job.retrying', job: attempt(1), time: t0 + 1001, data: { nextAttempt: 2, delayMs: 500 } }),
      makeEvent({ type: 'job.started', job: attempt(2), time: t0 + 2000 }),
      makeEvent({ type: 'job.failed', job: attempt(2), time: t0 + 3000, level: 'error', data: { durationMs: 1000, error, willRetry: false } }),
    ];
    const run = fx.start(tail, ['--job', 'job-retry-1', '--type', 'job.failed', '--count', '2']);
    await waitFor(() => run.err.text.includes('live, following'), { what: 'tail connected' });
    // One by one, as a worker would send them; the first failure is read before its retry starts.
    for (const e of events) await fx.seed(e);
    expect(await run.done).toBe(0);
    const lines = run.out.text.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/job\.failed\s+job-retry-1\s+failed \(will retry\)\s+machine-1\/worker-1\/comfyui$/);
    expect(lines[1]).toMatch(/job\.failed\s+job-retry-1\s+failed \(attempt 2\)\s+machine-1\/worker-1\/comfyui$/);
    // The feed entries said whether a retry follows: the stream was the only request.
    expect(jobLookups()).toEqual([]);
    expect(fetchSpy.mock.calls.every(([url]) => new URL(String(url)).pathname === '/api/stream')).toBe(true);
  });

  it('still looks the job up for a feed entry an older status sink wrote, without willRetry', async () => {
    const t0 = Date.now() - 10_000;
    const attempt1 = { id: 'job-old-feed', attempt: 1, queue: 'render' };
    // The record as it stands: attempt 1 failed and is being retried.
    await fx.seed(
      makeEvent({ type: 'job.started', job: attempt1, time: t0 }),
      makeEvent({ type: 'job.failed', job: attempt1, time: t0 + 1000, level: 'error', data: { durationMs: 1000, error, willRetry: true } }),
      makeEvent({ type: 'job.retrying', job: attempt1, time: t0 + 1001, data: { nextAttempt: 2, delayMs: 500 } }),
    );
    fetchSpy = vi.spyOn(globalThis, 'fetch');
    const run = fx.start(tail, ['--job', 'job-old-feed', '--type', 'job.failed', '--count', '1']);
    await waitFor(() => run.err.text.includes('live, following'), { what: 'tail connected' });
    // The fields an older status sink wrote for that failure: no willRetry.
    await fx.redis.xadd(statusKeys(fx.prefix).feed, '*', 'kind', 'job', 'eventId', 'old-sink-event', 'eventType', 'job.failed', 'time', String(t0 + 1000),
      'machineId', 'machine-1', 'workerId', 'worker-1', 'serviceType', 'comfyui', 'connectorId', 'comfyui-local', 'jobId', 'job-old-feed', 'state', 'failed', 'attempt', '1');
    expect(await run.done).toBe(0);
    expect(run.out.text.trim()).toMatch(/job\.failed\s+job-old-feed\s+failed \(will retry\)\s+machine-1\/worker-1\/comfyui$/);
    expect(jobLookups().map((url) => new URL(url).pathname)).toEqual(['/api/jobs/job-old-feed']);
  });
});
