import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tail from '../../../src/cli/commands/tail.js';
import { makeEvent } from '../../helpers/events.js';
import { waitFor } from '../../helpers/redis.js';
import { startCliFixture, type CliFixture } from '../cli/cli-fixture.js';

/** `jobscope tail` against the real API: the feed says `failed` for both kinds of job.failed. */
describe('jobscope tail and job.failed', () => {
  let fx: CliFixture;
  beforeAll(async () => {
    fx = await startCliFixture('tail-retry');
  });
  afterAll(() => fx?.close());

  it('marks a failure that a retry follows, and leaves the final one plain', async () => {
    const t0 = Date.now() - 10_000;
    const error = { type: 'TimeoutError', category: 'timeout' as const, message: 'timed out' };
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
  });
});
