import { describe, expect, it } from 'vitest';
import type { JobView } from '../../../src/cli/api-types.js';
import { jobColumns } from '../../../src/cli/job-columns.js';
import { createWatchModel, type WatchModel } from '../../../src/cli/watch-model.js';
import type { FeedEntry } from '../../../src/status/types.js';

const entry = (jobId: string, eventType: FeedEntry['eventType'], state: FeedEntry['state'], time: number, more: Partial<FeedEntry> = {}): FeedEntry => ({
  id: `${time}-0`,
  kind: 'job',
  eventId: `e-${time}`,
  eventType,
  time,
  jobId,
  state,
  attempt: 1,
  machineId: 'm',
  workerId: 'w',
  serviceType: 's',
  connectorId: 'c',
  ...more,
});

/** A job as `GET /api/jobs` gives it. */
const view = (id: string, updatedAt: number, more: Partial<JobView> = {}): JobView => ({
  id,
  state: 'running',
  attempt: 1,
  machineId: 'm',
  workerId: 'w',
  serviceType: 's',
  connectorId: 'c',
  updatedAt,
  lastEventId: `e-${updatedAt}`,
  lastEventType: 'job.started',
  eventCount: 1,
  ...more,
});

/** The cells `jobscope watch` prints for a job, by column header. */
function cells(m: WatchModel, id: string, now = 100_000): Record<string, string> {
  const row = m.rows().find((r) => r.id === id);
  if (!row) throw new Error(`no row ${id}`);
  return Object.fromEntries(jobColumns(now).map((c) => [c.header, c.value(row)]));
}

describe('createWatchModel', () => {
  it('moves counts between states, computes the duration, and keeps the newest rows only', () => {
    const m = createWatchModel(2);
    m.setCounts({ completed: 5 });
    m.apply(entry('a', 'job.received', 'received', 1000));
    m.apply(entry('a', 'job.started', 'running', 2000));
    m.apply(entry('a', 'job.completed', 'completed', 4500));
    expect(m.counts()).toMatchObject({ received: 0, running: 0, completed: 6 });
    expect(m.rows()[0]).toMatchObject({ id: 'a', state: 'completed', durationMs: 2500, progress: 100 });
    m.apply(entry('b', 'job.received', 'received', 5000));
    m.apply(entry('c', 'job.received', 'received', 6000));
    expect(m.rows().map((r) => r.id)).toEqual(['c', 'b']);
    expect(m.apply({ ...entry('x', 'worker.heartbeat', undefined, 7000), kind: 'worker' })).toBe(false);
  });

  it('times a retried job by its last attempt: attempt 1 fails after 1.6 s, attempt 2 runs 10 s', () => {
    const m = createWatchModel(20);
    m.apply(entry('j', 'job.received', 'received', 1000));
    m.apply(entry('j', 'job.started', 'running', 1000));
    m.apply(entry('j', 'job.progress', 'running', 2000, { progress: 40 }));
    m.apply(entry('j', 'job.failed', 'failed', 2600, { progress: 40 }));
    expect(m.rows()[0]).toMatchObject({ attempt: 1, durationMs: 1600 });
    m.apply(entry('j', 'job.retrying', 'retrying', 2700, { progress: 40 }));
    // The next attempt runs elsewhere; the feed entry has no progress: the attempt has none yet.
    m.apply(entry('j', 'job.received', 'received', 5000, { attempt: 2, workerId: 'w2' }));
    expect(m.rows()[0]).not.toHaveProperty('durationMs');
    expect(m.rows()[0]).not.toHaveProperty('startedAt');
    expect(m.rows()[0]).not.toHaveProperty('finishedAt');
    expect(m.rows()[0]).toMatchObject({ state: 'received', attempt: 2, workerId: 'w2' });
    expect(cells(m, 'j')).toMatchObject({ PROG: '-', DURATION: '-', 'MACHINE/WORKER': 'm/w2' });
    m.apply(entry('j', 'job.started', 'running', 6000, { attempt: 2, workerId: 'w2' }));
    expect(cells(m, 'j', 9000)).toMatchObject({ DURATION: '3.0s' });
    m.apply(entry('j', 'job.completed', 'completed', 16_000, { attempt: 2, workerId: 'w2', progress: 100 }));
    expect(m.rows()[0]).toMatchObject({ state: 'completed', attempt: 2, startedAt: 6000, finishedAt: 16_000, durationMs: 10_000, progress: 100 });
    expect(cells(m, 'j')).toMatchObject({ ATT: '2', DURATION: '10.0s' });
  });

  it('shows no duration for a job first seen through a progress event (its start is unknown)', () => {
    const m = createWatchModel(20);
    m.apply(entry('p', 'job.progress', 'running', 10_000, { progress: 80 }));
    expect(m.rows()[0]).not.toHaveProperty('startedAt');
    expect(cells(m, 'p', 10_002)).toMatchObject({ STATE: 'running', PROG: '80%', DURATION: '-' });
    m.apply(entry('p', 'job.completed', 'completed', 10_005, { progress: 100 }));
    expect(m.rows()[0]).toMatchObject({ state: 'completed', finishedAt: 10_005 });
    expect(m.rows()[0]).not.toHaveProperty('durationMs');
    expect(cells(m, 'p')).toMatchObject({ PROG: '100%', DURATION: '-' });
  });

  it('does not time a new attempt from its first progress event, nor carry the earlier attempt over', () => {
    const m = createWatchModel(20);
    // Attempt 1 failed before it started (the API has no start for it); attempt 2 is seen from its
    // reception, then a progress and the completion in the same millisecond.
    m.setJobs([view('r', 1000, { state: 'retrying', lastEventType: 'job.retrying', finishedAt: 900, willRetry: true, nextAttempt: 2 })]);
    m.apply(entry('r', 'job.received', 'received', 2000, { attempt: 2 }));
    m.apply(entry('r', 'job.progress', 'running', 3100, { attempt: 2, progress: 50 }));
    m.apply(entry('r', 'job.completed', 'completed', 3100, { attempt: 2, progress: 100 }));
    expect(m.rows()[0]).toMatchObject({ state: 'completed', attempt: 2, finishedAt: 3100 });
    expect(m.rows()[0]).not.toHaveProperty('durationMs');
    expect(m.rows()[0]).not.toHaveProperty('willRetry');
    expect(cells(m, 'r')).toMatchObject({ ATT: '2', DURATION: '-' });
  });

  it('keeps what the API gave (model, start) for a job pushed off the rows by newer ones (--limit 5)', () => {
    const m = createWatchModel(5);
    m.setJobs([
      view('x', 1000, { startedAt: 1000, ai: { model: 'gpt-4o', provider: 'openai' } }),
      ...['a', 'b', 'c', 'd'].map((id, i) => view(id, 1100 + i, { state: 'completed', startedAt: 900, finishedAt: 1100 + i, durationMs: 200 + i })),
    ]);
    expect(cells(m, 'x')).toMatchObject({ MODEL: 'gpt-4o' });
    for (const [i, id] of ['e', 'f', 'g'].entries()) m.apply(entry(id, 'job.received', 'received', 2000 + i));
    expect(m.rows().map((r) => r.id)).not.toContain('x');
    m.apply(entry('x', 'job.progress', 'running', 3338.779, { progress: 90 }));
    m.apply(entry('x', 'job.completed', 'completed', 3343.779, { progress: 100 }));
    expect(m.rows()).toHaveLength(5);
    expect(m.rows()[0]).toMatchObject({ id: 'x', state: 'completed', startedAt: 1000, durationMs: 2343.779, ai: { model: 'gpt-4o' } });
    expect(cells(m, 'x')).toMatchObject({ MODEL: 'gpt-4o', PROG: '100%', DURATION: '2.3s' });
  });

  it('keeps the finish and duration the API gave through a repeated completion; a new attempt keeps the model, clears the timing', () => {
    const m = createWatchModel(20);
    m.setJobs([view('k', 5000, { state: 'completed', startedAt: 2000, finishedAt: 4344, durationMs: 2343.779, progress: 100, ai: { model: 'gpt-4o' } })]);
    // A repeated completion (a redelivery) of the same attempt.
    m.apply(entry('k', 'job.completed', 'completed', 6000, { progress: 100 }));
    expect(m.rows()[0]).toMatchObject({ durationMs: 2343.779, finishedAt: 4344, ai: { model: 'gpt-4o' } });
    // The status store keeps the model across attempts (an entry carries none); a new attempt
    // clears the timing only.
    m.apply(entry('k', 'job.received', 'received', 7000, { attempt: 2 }));
    expect(cells(m, 'k')).toMatchObject({ MODEL: 'gpt-4o', DURATION: '-', PROG: '-' });
  });

  it('ignores an entry of an earlier attempt than the API already gave, and clears the stuck flag once the job moves', () => {
    const m = createWatchModel(20);
    m.setCounts({ running: 1 });
    m.setJobs([view('s', 5000, { attempt: 2, startedAt: 4000, flags: { stuck: true } })]);
    expect(m.apply(entry('s', 'job.failed', 'failed', 4500, { attempt: 1 }))).toBe(false);
    expect(m.rows()[0]).toMatchObject({ state: 'running', attempt: 2, startedAt: 4000 });
    expect(m.counts()).toMatchObject({ running: 1, failed: 0 });
    expect(cells(m, 's')).toMatchObject({ STATE: 'running (stuck)' });
    m.apply(entry('s', 'job.progress', 'running', 6000, { attempt: 2, progress: 10 }));
    expect(cells(m, 's', 6000)).toMatchObject({ STATE: 'running', DURATION: '2.0s' });
  });
  it('a job id re-added (or retried with its attempts reset) runs attempt 1 again: its row shows the new run, not the old times', () => {
    const m = createWatchModel(20);
    m.setCounts({ failed: 1 });
    m.setJobs([view('nightly', 5000, { state: 'failed', attempt: 3, receivedAt: 1000, startedAt: 1001, finishedAt: 5000, durationMs: 3999, progress: 60 })]);
    // An entry of an earlier attempt, older than the API read: ignored as before.
    expect(m.apply(entry('nightly', 'job.progress', 'running', 4000, { attempt: 2 }))).toBe(false);
    expect(m.apply(entry('nightly', 'job.received', 'received', 60_000, { attempt: 1 }))).toBe(true);
    m.apply(entry('nightly', 'job.started', 'running', 60_001, { attempt: 1 }));
    expect(m.rows()[0]).toMatchObject({ state: 'running', attempt: 1, receivedAt: 60_000, startedAt: 60_001 });
    expect(m.rows()[0]!.durationMs).toBeUndefined();
    expect(m.rows()[0]!.progress).toBeUndefined();
    expect(m.counts()).toMatchObject({ failed: 0, running: 1 });
    m.apply(entry('nightly', 'job.failed', 'failed', 60_050, { attempt: 1 }));
    expect(m.rows()[0]).toMatchObject({ state: 'failed', attempt: 1, finishedAt: 60_050, durationMs: 49 });
    expect(cells(m, 'nightly', 61_000)).toMatchObject({ DURATION: '49ms' });
  });
});
