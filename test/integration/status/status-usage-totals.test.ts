import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
});
