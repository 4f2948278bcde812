import { describe, expect, it } from 'vitest';
import { groupErrors, normalizeErrorMessage } from '../../../src/insights/error-groups.js';
import { computeJobStats } from '../../../src/insights/job-stats.js';
import { renderStats } from '../../../src/cli/commands/stats.js';
import { percentile } from '../../../src/insights/percentile.js';
import type { JobRecord } from '../../../src/status/types.js';

function job(id: string, over: Partial<JobRecord>): JobRecord {
  return {
    id, state: 'completed', attempt: 1, machineId: 'm', workerId: 'w', serviceType: 'comfyui', connectorId: 'c',
    updatedAt: 0, lastEventId: 'e', lastEventType: 'job.completed', eventCount: 3, ...over,
  };
}

describe('error grouping', () => {
  it('normalizes ids, numbers, URLs and quoted values', () => {
    expect(normalizeErrorMessage('GET https://x.io/a?b=1 failed for "cat.png" after 30000 ms (id 0190a3c2-1111-7abc-8def-0123456789ab)')).toBe(
      'GET <url> failed for <str> after <n> ms (id <uuid>)',
    );
  });

  it('groups by service, type, category and normalized message, largest first', () => {
    const err = (message: string, type = 'TimeoutError') => ({ type, category: 'timeout' as const, message });
    const groups = groupErrors([
      job('a', { state: 'failed', updatedAt: 10, lastError: err('timed out after 5 s') }),
      job('b', { state: 'failed', updatedAt: 30, lastError: err('timed out after 9 s') }),
      job('c', { state: 'failed', updatedAt: 20, lastError: err('timed out after 1 s'), serviceType: 'openai' }),
      job('d', { state: 'failed', updatedAt: 5, lastError: err('timed out after 5 s', 'Other') }),
      job('e', { updatedAt: 40 }),
      // Cancelled: its last error is the cancellation, not a failure.
      job('f', { state: 'cancelled', updatedAt: 50, lastError: { type: 'JobCancelled', category: 'cancelled', message: 'user' } }),
    ]);
    expect(groups.map((g) => [g.serviceType, g.errorType, g.count])).toEqual([['comfyui', 'TimeoutError', 2], ['openai', 'TimeoutError', 1], ['comfyui', 'Other', 1]]);
    expect(groups[0]).toMatchObject({ firstSeen: 10, lastSeen: 30, exampleJobId: 'b', message: 'timed out after <n> s' });
  });
});

describe('stats', () => {
  it('computes percentiles by nearest rank', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
  });

  it('buckets finished jobs over the window, with error rate, waits and cost', () => {
    const windowMs = 60 * 60_000;
    const toMs = 10 * windowMs;
    const fromMs = toMs - windowMs;
    const stats = computeJobStats(
      [
        job('a', { finishedAt: fromMs + 10, updatedAt: fromMs + 10, durationMs: 100, queueWaitMs: 5, ai: { model: 'gpt', costUsd: 0.5 } }),
        job('b', { finishedAt: toMs - 1, updatedAt: toMs - 1, durationMs: 300, queueWaitMs: 15, ai: { model: 'sdxl', costUsd: 0.25 } }),
        job('c', { state: 'failed', finishedAt: toMs - 1, updatedAt: toMs - 1 }),
        job('d', { state: 'running', updatedAt: toMs - 1 }),
      ],
      { windowMs, toMs, capped: false },
      { running: 1 },
    );
    expect(stats.buckets).toHaveLength(60);
    expect(stats.buckets[0]).toMatchObject({ t: fromMs, completed: 1, failed: 0, p50DurationMs: 100, costUsd: 0.5 });
    expect(stats.buckets[59]).toMatchObject({ completed: 1, failed: 1, p50DurationMs: 300 });
    expect(stats.errorRate).toBeCloseTo(1 / 3);
    expect(stats.throughputPerMin).toBeCloseTo(3 / 60);
    expect(stats.durationMs).toEqual({ p50: 100, p95: 300 });
    expect(stats.queueWaitMs).toEqual({ p50: 5, p95: 15 });
    expect(stats.costUsd).toEqual({ total: 0.75, byModel: { gpt: 0.5, sdxl: 0.25 }, byService: { comfyui: 0.75 } });
  });

  it('capped, the throughput is over the time the jobs read cover, not the whole window', () => {
    const windowMs = 60 * 60_000;
    const toMs = 10 * windowMs;
    // The newest 6 jobs of the window cover its last 3 minutes.
    const jobs = Array.from({ length: 6 }, (_, i) => job(`j${i}`, { finishedAt: toMs - i * 36_000, updatedAt: toMs - i * 36_000 }));
    expect(computeJobStats(jobs, { windowMs, toMs, capped: true }, {}).throughputPerMin).toBeCloseTo(6 / 3);
    expect(computeJobStats(jobs, { windowMs, toMs, capped: false }, {}).throughputPerMin).toBeCloseTo(6 / 60);
  });

  it("when the store's data begins inside the window (a fresh install), the throughput is over the time since its first job", () => {
    const windowMs = 60 * 60_000;
    const toMs = 10 * windowMs;
    // Six jobs finished over the last 3 minutes; the first was received 4 minutes ago. One had
    // waited in a backlog for 3 hours: its enqueue is the producer's time, not the store's.
    const jobs = Array.from({ length: 6 }, (_, i) => job(`j${i}`, { enqueuedAt: i === 5 ? toMs - 3 * windowMs : toMs - 250_000, receivedAt: toMs - 240_000 + i * 1000, finishedAt: toMs - i * 36_000, updatedAt: toMs - i * 36_000 }));
    const fresh = computeJobStats(jobs, { windowMs, toMs, capped: false, dataFromMs: toMs - 180_000 }, {});
    expect(fresh.throughputPerMin).toBeCloseTo(6 / 4);
    expect(fresh.throughputSpanMs).toBe(240_000);
    // The store holds older jobs: the window's quiet start is real, and counts.
    const older = computeJobStats(jobs, { windowMs, toMs, capped: false, dataFromMs: toMs - 2 * windowMs }, {});
    expect(older.throughputPerMin).toBeCloseTo(6 / 60);
    expect(older.throughputSpanMs).toBe(windowMs);
    expect(renderStats(fresh)).toMatch(/throughput {4}1\.5 jobs\/min \(over the last 4m.*, since the first job the store holds\)/);
    expect(renderStats(older)).not.toContain('over the last');
    // As many jobs as JOBSCOPE_INSIGHTS_MAX_JOBS allows (a million): no stack overflow.
    const many = Array.from({ length: 300_000 }, (_, i) => job(`m${i}`, { receivedAt: toMs - 120_000 + (i % 1000), finishedAt: toMs - 1, updatedAt: toMs - 1 }));
    expect(computeJobStats(many, { windowMs, toMs, capped: false, dataFromMs: toMs - 1000 }, {}).throughputSpanMs).toBe(120_000);
    expect(computeJobStats(many, { windowMs, toMs, capped: true }, {}).throughputSpanMs).toBe(1000);
  });
});
