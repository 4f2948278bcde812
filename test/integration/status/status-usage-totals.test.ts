import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { statusKeys } from '../../../src/status/index.js';
import { jobEvent, statusFixture, type StatusFixture } from './status-fixture.js';

/**
 * An event's `ai` block is its attempt's running total (the logger sends the totals so far on
 * every later lifecycle event): the store must show what the job consumed, not the sum of
 * every report.
 */
const T = 1_700_000_000_000;
let fx: StatusFixture;

beforeEach(() => {
  fx = statusFixture();
});
afterEach(async () => {
  await fx.done();
});

describe('status sink: AI usage totals', () => {
  it('takes the latest running total of an attempt, not the sum of its reports', async () => {
    await fx.apply(
      jobEvent('job.received', 'u1', 1, T, { ai: { model: 'gpt-4o' } }),
      jobEvent('job.progress', 'u1', 1, T + 10, { data: { progress: 50 }, ai: { model: 'gpt-4o', inputTokens: 100, costUsd: 0.001 } }),
      jobEvent('job.completed', 'u1', 1, T + 20, { data: { durationMs: 20 }, ai: { model: 'gpt-4o', inputTokens: 100, outputTokens: 40, costUsd: 0.0015 } }),
    );
    expect((await fx.reader.getJob('u1'))?.ai).toMatchObject({ inputTokens: 100, outputTokens: 40, costUsd: 0.0015 });
  });

  it('adds up attempts, and a report arriving out of order never lowers or double counts', async () => {
    await fx.apply(
      jobEvent('job.failed', 'u2', 1, T + 30, {
        data: { durationMs: 30, error: { type: 'Error', category: 'rate_limit', message: '429' }, willRetry: true },
        ai: { inputTokens: 100, costUsd: 0.01 },
      }),
      jobEvent('job.progress', 'u2', 1, T + 10, { data: { progress: 10 }, ai: { inputTokens: 60, costUsd: 0.006 } }),
      jobEvent('job.completed', 'u2', 2, T + 90, { data: { durationMs: 40 }, ai: { inputTokens: 80, outputTokens: 20, costUsd: 0.009 } }),
      jobEvent('job.progress', 'u2', 2, T + 70, { data: { progress: 50 }, ai: { inputTokens: 50, costUsd: 0.005 } }),
    );
    const ai = (await fx.reader.getJob('u2'))?.ai;
    expect(ai).toMatchObject({ inputTokens: 180, outputTokens: 20 });
    expect(ai?.costUsd).toBeCloseTo(0.019, 9);
  });

  it("an earlier attempt's usage applied after a later attempt's still counts, once (its last event carries it)", async () => {
    const failed = jobEvent('job.failed', 'u3', 1, T + 30, {
      data: { durationMs: 30, error: { type: 'Error', category: 'network', message: 'reset' }, willRetry: true },
      ai: { model: 'gpt-4o', inputTokens: 1000, outputTokens: 100, costUsd: 0.0035 },
    });
    // Attempt 2 first (another pipeline process, a redelivery), then attempt 1's failure, its
    // job.retrying (the same totals, as the logger sends them) and the failure once more.
    await fx.apply(jobEvent('job.completed', 'u3', 2, T + 90, { data: { durationMs: 40 }, ai: { model: 'gpt-4o', inputTokens: 2000, outputTokens: 200, costUsd: 0.007 } }));
    await fx.apply(failed);
    await fx.apply(jobEvent('job.retrying', 'u3', 1, T + 31, { data: { nextAttempt: 2 }, ai: failed.ai }), failed);
    const job = await fx.reader.getJob('u3');
    expect(job?.ai).toMatchObject({ inputTokens: 3000, outputTokens: 300 });
    expect(job?.ai?.costUsd).toBeCloseTo(0.0105, 9);
    expect(job).toMatchObject({ state: 'completed', attempt: 2 });
    // And a later report of attempt 1 with more usage adds only what is new.
    await fx.apply(jobEvent('job.failed', 'u3', 1, T + 35, { data: { durationMs: 35, error: { type: 'Error', category: 'network', message: 'reset' }, willRetry: true }, ai: { inputTokens: 1200, outputTokens: 100, costUsd: 0.004 } }));
    expect((await fx.reader.getJob('u3'))?.ai).toMatchObject({ inputTokens: 3200, outputTokens: 300 });
  });

  it('a run BullMQ put back (the runtime logs it rate_limited, with its usage): the job reads retrying, and the usage counts', async () => {
    await fx.apply(
      jobEvent('job.received', 'p1', 1, T),
      jobEvent('job.started', 'p1', 1, T + 1),
      jobEvent('log', 'p1', 1, T + 50, { level: 'info', message: 'job rate-limited: back to the queue, to run again', attrs: { kind: 'rate_limited', durationMs: 49 }, data: { kind: 'log' }, ai: { model: 'gpt-4o', inputTokens: 1000, costUsd: 0.01 } }),
    );
    expect(await fx.reader.getJob('p1')).toMatchObject({ state: 'retrying', attempt: 1, ai: { inputTokens: 1000 } });
    await fx.apply(
      jobEvent('job.received', 'p1', 2, T + 300),
      jobEvent('job.started', 'p1', 2, T + 301),
      jobEvent('job.completed', 'p1', 2, T + 400, { data: { durationMs: 99 }, ai: { model: 'gpt-4o', inputTokens: 500, costUsd: 0.005 } }),
    );
    const job = await fx.reader.getJob('p1');
    expect(job).toMatchObject({ state: 'completed', attempt: 2, ai: { inputTokens: 1500 } });
    expect(job?.ai?.costUsd).toBeCloseTo(0.015, 9);
  });

  it('a run handed back at a worker shutdown reads retrying (another worker runs it again), with its usage', async () => {
    await fx.apply(
      jobEvent('job.received', 'h1', 1, T),
      jobEvent('job.started', 'h1', 1, T + 1),
      jobEvent('log', 'h1', 1, T + 50, { level: 'warn', message: 'job handed back to the queue at shutdown', attrs: { kind: 'handed_back', deadlineMs: 25000 }, data: { kind: 'log' }, ai: { gpuSeconds: 30, costUsd: 0.04 } }),
    );
    expect(await fx.reader.getJob('h1')).toMatchObject({ state: 'retrying', ai: { gpuSeconds: 30, costUsd: 0.04 } });
  });

  it('a job id re-added run after run adds each run\'s usage, and its record keeps the fields of 16 earlier runs at most', async () => {
    const runs = 30;
    for (let i = 0; i < runs; i++) {
      const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: (i + 1).toString(16).padStart(16, 'a') };
      const t = T + i * 60_000;
      await fx.apply(
        jobEvent('job.received', 'every-minute', 1, t, { trace }),
        jobEvent('job.completed', 'every-minute', 1, t + 50, { trace, data: { durationMs: 50 }, ai: { model: 'gpt-4o', inputTokens: 10, outputTokens: 2, costUsd: 0.001 } }),
      );
    }
    const job = await fx.reader.getJob('every-minute');
    expect(job).toMatchObject({ state: 'completed', attempt: 1, receivedAt: T + (runs - 1) * 60_000, ai: { inputTokens: 10 * runs, outputTokens: 2 * runs } });
    expect(job?.ai?.costUsd).toBeCloseTo(0.001 * runs, 9);
    const fields = await fx.redis.hkeys(statusKeys(fx.prefix).job('every-minute'));
    // The latest run's totals (_u<key>) and 16 earlier runs' (_u<span>.<key>): 3 keys each here.
    expect(fields.filter((f) => /^_u.+\./.test(f))).toHaveLength(16 * 3);
    // A late report of an earlier run still kept adds only what it had not counted.
    const late = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: (runs - 5).toString(16).padStart(16, 'a') };
    await fx.apply(jobEvent('job.completed', 'every-minute', 1, T + (runs - 6) * 60_000 + 50, { trace: late, data: { durationMs: 50 }, ai: { model: 'gpt-4o', inputTokens: 15 } }));
    expect(await fx.reader.getJob('every-minute')).toMatchObject({ state: 'completed', receivedAt: T + (runs - 1) * 60_000, ai: { inputTokens: 10 * runs + 5 } });
  });
});

