import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobEvent, statusFixture, type StatusFixture } from './status-fixture.js';

const T = 1_700_000_000_000;
let fx: StatusFixture;

beforeEach(() => {
  fx = statusFixture();
});
afterEach(async () => {
  await fx.done();
});

describe('status sink: job lifecycles', () => {
  it('a completed job ends with its times, duration, progress, usage and a full timeline', async () => {
    await fx.apply(
      jobEvent('job.received', 'j1', 1, T, { data: { enqueuedAt: T - 500, queueWaitMs: 500 }, ai: { model: 'flux-dev', provider: 'bfl' } }),
      jobEvent('job.started', 'j1', 1, T + 10),
      jobEvent('job.progress', 'j1', 1, T + 20, { data: { progress: 40, stage: 'sampling' } }),
      jobEvent('job.completed', 'j1', 1, T + 1000, {
        data: { durationMs: 990 },
        ai: { inputTokens: 12, outputTokens: 30, costUsd: 0.25 },
      }),
    );
    const job = await fx.reader.getJob('j1');
    expect(job).toMatchObject({
      id: 'j1',
      state: 'completed',
      attempt: 1,
      enqueuedAt: T - 500,
      receivedAt: T,
      startedAt: T + 10,
      finishedAt: T + 1000,
      updatedAt: T + 1000,
      durationMs: 990,
      queueWaitMs: 500,
      progress: 100,
      stage: 'sampling',
      machineId: 'machine-1',
      workerId: 'worker-1',
      serviceType: 'comfyui',
      connectorId: 'comfyui-local',
      ai: { model: 'flux-dev', provider: 'bfl', inputTokens: 12, outputTokens: 30, costUsd: 0.25 },
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      lastEventType: 'job.completed',
      eventCount: 4,
    });
    const timeline = await fx.reader.getTimeline('j1');
    expect(timeline.map((e) => e.type)).toEqual(['job.received', 'job.started', 'job.progress', 'job.completed']);
    expect(timeline[2]).toMatchObject({ progress: 40, stage: 'sampling', attempt: 1 });
  });

  it('a final failure keeps the error and says no retry follows', async () => {
    await fx.apply(
      jobEvent('job.received', 'j2', 1, T),
      jobEvent('job.started', 'j2', 1, T + 1),
      jobEvent('job.failed', 'j2', 1, T + 50, {
        data: { durationMs: 49, willRetry: false, error: { type: 'TimeoutError', category: 'timeout', message: 'took too long' } },
      }),
    );
    const job = await fx.reader.getJob('j2');
    expect(job).toMatchObject({ state: 'failed', willRetry: false, durationMs: 49, finishedAt: T + 50 });
    expect(job?.lastError).toMatchObject({ type: 'TimeoutError', category: 'timeout', message: 'took too long' });
    expect((await fx.reader.getTimeline('j2'))[2]).toMatchObject({ errorType: 'TimeoutError', errorMessage: 'took too long' });
  });

  it('a cancelled job is cancelled, and a later completion of the same attempt does not change that', async () => {
    await fx.apply(
      jobEvent('job.received', 'j3', 1, T),
      jobEvent('job.cancelled', 'j3', 1, T + 5, { data: { reason: 'user' } }),
      jobEvent('job.completed', 'j3', 1, T + 6, { data: { durationMs: 6 } }),
    );
    expect(await fx.reader.getJob('j3')).toMatchObject({ state: 'cancelled', eventCount: 3 });
    // Why: the reason given, as the job's last error and on its timeline.
    expect((await fx.reader.getJob('j3'))?.lastError).toEqual({ type: 'JobCancelled', category: 'cancelled', message: 'user' });
    expect((await fx.reader.getTimeline('j3'))[1]).toMatchObject({ type: 'job.cancelled', errorType: 'JobCancelled', errorMessage: 'user' });
  });

  it('an unknown job reads as undefined with an empty timeline', async () => {
    expect(await fx.reader.getJob('nope')).toBeUndefined();
    expect(await fx.reader.getTimeline('nope')).toEqual([]);
  });
});

describe('status sink: duplicates and reordering', () => {
  it('the same events applied twice count once (event count, tokens, cost, timeline)', async () => {
    const events = [
      jobEvent('job.received', 'd1', 1, T),
      jobEvent('job.progress', 'd1', 1, T + 1, { data: { progress: 10 }, ai: { inputTokens: 100, costUsd: 0.5 } }),
      jobEvent('job.completed', 'd1', 1, T + 2, { data: { durationMs: 2 }, ai: { outputTokens: 7 } }),
    ];
    await fx.apply(...events);
    await fx.apply(...events, events[1]!);
    const job = await fx.reader.getJob('d1');
    expect(job).toMatchObject({ eventCount: 3, state: 'completed', ai: { inputTokens: 100, outputTokens: 7, costUsd: 0.5 } });
    expect(await fx.reader.getTimeline('d1')).toHaveLength(3);
    expect(fx.sink.stats()).toMatchObject({ applied: 3, duplicates: 4 });
    const feed = await fx.reader.readFeed({ afterId: '0', count: 100 });
    expect(feed).toHaveLength(3);
  });

  it('completed before started, progress 80 before 40: final state completed, progress never goes back', async () => {
    await fx.apply(
      jobEvent('job.completed', 'r1', 1, T + 100, { data: { durationMs: 90 } }),
      jobEvent('job.progress', 'r1', 1, T + 50, { data: { progress: 80 } }),
      jobEvent('job.started', 'r1', 1, T + 10),
      jobEvent('job.progress', 'r1', 1, T + 30, { data: { progress: 40 } }),
      jobEvent('job.received', 'r1', 1, T),
    );
    const job = await fx.reader.getJob('r1');
    expect(job).toMatchObject({
      state: 'completed',
      progress: 100,
      startedAt: T + 10,
      receivedAt: T,
      finishedAt: T + 100,
      updatedAt: T + 100,
      lastEventType: 'job.completed',
    });
    const timeline = await fx.reader.getTimeline('r1');
    expect(timeline.map((e) => e.time)).toEqual([T, T + 10, T + 30, T + 50, T + 100]);
  });

  it('progress only increases within a running attempt', async () => {
    await fx.apply(
      jobEvent('job.started', 'p1', 1, T),
      jobEvent('job.progress', 'p1', 1, T + 2, { data: { progress: 80, stage: 'decode' } }),
      jobEvent('job.progress', 'p1', 1, T + 1, { data: { progress: 40, stage: 'sample' } }),
    );
    expect(await fx.reader.getJob('p1')).toMatchObject({ state: 'running', progress: 80, stage: 'decode' });
  });
});

describe('status sink: retries and attempts', () => {
  const err = { type: 'Error', category: 'network', message: 'ECONNRESET' };

  it('attempt 1 fails and retries, attempt 2 completes: completed, attempt 2, timeline holds both', async () => {
    await fx.apply(
      jobEvent('job.received', 'a1', 1, T),
      jobEvent('job.started', 'a1', 1, T + 1),
      jobEvent('job.progress', 'a1', 1, T + 2, { data: { progress: 70 } }),
      jobEvent('job.failed', 'a1', 1, T + 3, { data: { durationMs: 2, willRetry: true, error: err } }),
    );
    expect(await fx.reader.getJob('a1')).toMatchObject({ state: 'failed', willRetry: true, attempt: 1 });
    await fx.apply(jobEvent('job.retrying', 'a1', 1, T + 4, { data: { nextAttempt: 2, delayMs: 100 } }));
    expect(await fx.reader.getJob('a1')).toMatchObject({ state: 'retrying', attempt: 1, nextAttempt: 2 });
    await fx.apply(
      jobEvent('job.received', 'a1', 2, T + 100),
      jobEvent('job.started', 'a1', 2, T + 101),
      jobEvent('job.progress', 'a1', 2, T + 102, { data: { progress: 20 } }),
    );
    const running = await fx.reader.getJob('a1');
    expect(running).toMatchObject({ state: 'running', attempt: 2, progress: 20, startedAt: T + 101 });
    expect(running?.willRetry).toBeUndefined();
    await fx.apply(jobEvent('job.completed', 'a1', 2, T + 200, { data: { durationMs: 99 } }));
    expect(await fx.reader.getJob('a1')).toMatchObject({ state: 'completed', attempt: 2, durationMs: 99, eventCount: 9 });
    const attempts = (await fx.reader.getTimeline('a1')).map((e) => e.attempt);
    expect(attempts).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it('a late event of attempt 1 after attempt 2 started does not regress the job', async () => {
    await fx.apply(jobEvent('job.received', 'a2', 2, T + 100), jobEvent('job.started', 'a2', 2, T + 101));
    await fx.apply(
      jobEvent('job.failed', 'a2', 1, T + 3, { data: { durationMs: 2, willRetry: true, error: err } }),
      jobEvent('job.progress', 'a2', 1, T + 2, { data: { progress: 90 } }),
    );
    const job = await fx.reader.getJob('a2');
    expect(job).toMatchObject({ state: 'running', attempt: 2, eventCount: 4 });
    expect(job?.progress).toBeUndefined();
    expect(job?.willRetry).toBeUndefined();
    expect((await fx.reader.getTimeline('a2')).map((e) => e.attempt)).toEqual([1, 1, 2, 2]);
  });

  it('a late received of an attempt does not undo its completion', async () => {
    await fx.apply(jobEvent('job.completed', 'a3', 1, T + 10, { data: { durationMs: 5 } }));
    await fx.apply(jobEvent('job.received', 'a3', 1, T));
    expect(await fx.reader.getJob('a3')).toMatchObject({ state: 'completed', receivedAt: T });
  });
});

describe('status sink: indexes and the worker current job', () => {
  it('state index membership moves with the state; counts follow', async () => {
    await fx.apply(jobEvent('job.received', 'i1', 1, T), jobEvent('job.received', 'i2', 1, T));
    expect(await fx.reader.countByState()).toMatchObject({ received: 2, running: 0, completed: 0 });
    await fx.apply(jobEvent('job.started', 'i1', 1, T + 1));
    expect(await fx.reader.countByState()).toMatchObject({ received: 1, running: 1 });
    await fx.apply(jobEvent('job.completed', 'i1', 1, T + 2, { data: { durationMs: 1 } }));
    expect(await fx.reader.countByState()).toMatchObject({ received: 1, running: 0, completed: 1 });
    const running = await fx.reader.listJobs({ state: 'running' });
    expect(running.jobs).toEqual([]);
    const done = await fx.reader.listJobs({ state: 'completed' });
    expect(done.jobs.map((j) => j.id)).toEqual(['i1']);
  });

  it('a job run by another worker on its next attempt moves between worker indexes and current jobs', async () => {
    const otherWorker = { machineId: 'machine-2', workerId: 'worker-9', serviceType: 'openai', connectorId: 'openai-api' };
    await fx.apply(jobEvent('job.started', 'm1', 1, T));
    expect((await fx.reader.getWorker('machine-1', 'worker-1'))?.currentJobs).toEqual(['m1']);
    await fx.apply(jobEvent('job.started', 'm1', 2, T + 10, { source: otherWorker }));
    expect((await fx.reader.listJobs({ workerId: 'worker-1' })).jobs).toEqual([]);
    expect((await fx.reader.listJobs({ workerId: 'worker-9', serviceType: 'openai' })).jobs.map((j) => j.id)).toEqual(['m1']);
    expect((await fx.reader.getWorker('machine-1', 'worker-1'))?.currentJobs).toEqual([]);
    expect((await fx.reader.getWorker('machine-2', 'worker-9'))?.currentJobs).toEqual(['m1']);
    await fx.apply(jobEvent('job.completed', 'm1', 2, T + 20, { source: otherWorker, data: { durationMs: 10 } }));
    expect((await fx.reader.getWorker('machine-2', 'worker-9'))?.currentJobs).toEqual([]);
  });
});

describe('status sink: a new run under an attempt number already used', () => {
  // Each run of a job has its own span: the runtime makes one per attempt it starts.
  const run = (spanId: string) => ({ trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId } });
  const first = run('00f067aa0ba902b7');
  const second = run('1111111111111111');
  const other = { machineId: 'machine-2', workerId: 'worker-9', serviceType: 'comfyui', connectorId: 'comfyui-local' };

  it('a job re-added with the id of one that completed (BullMQ counts from attempt 1 again) reads running, then its own end', async () => {
    await fx.apply(
      jobEvent('job.received', 'nightly', 1, T, { ...first, data: { enqueuedAt: T - 100, queueWaitMs: 100 } }),
      jobEvent('job.started', 'nightly', 1, T + 1, first),
      jobEvent('job.progress', 'nightly', 1, T + 5, { ...first, data: { progress: 60, stage: 'decode' } }),
      jobEvent('job.completed', 'nightly', 1, T + 10, { ...first, data: { durationMs: 9 } }),
    );
    await fx.apply(
      jobEvent('job.received', 'nightly', 1, T + 60_000, { ...second, source: other, data: { enqueuedAt: T + 59_000, queueWaitMs: 1000 } }),
      jobEvent('job.started', 'nightly', 1, T + 60_001, { ...second, source: other }),
    );
    const running = await fx.reader.getJob('nightly');
    expect(running).toMatchObject({ state: 'running', attempt: 1, receivedAt: T + 60_000, startedAt: T + 60_001, enqueuedAt: T + 59_000, queueWaitMs: 1000, workerId: 'worker-9' });
    expect(running?.finishedAt).toBeUndefined();
    expect(running?.durationMs).toBeUndefined();
    expect(running?.progress).toBeUndefined();
    expect((await fx.reader.listJobs({ state: 'running' })).jobs.map((j) => j.id)).toEqual(['nightly']);
    expect((await fx.reader.getWorker('machine-2', 'worker-9'))?.currentJobs).toEqual(['nightly']);

    await fx.apply(
      jobEvent('job.failed', 'nightly', 1, T + 60_050, {
        ...second,
        source: other,
        data: { durationMs: 49, willRetry: false, error: { type: 'Error', category: 'network', message: 'ECONNRESET' } },
      }),
    );
    expect(await fx.reader.getJob('nightly')).toMatchObject({ state: 'failed', attempt: 1, finishedAt: T + 60_050, durationMs: 49, willRetry: false, eventCount: 7 });
    expect((await fx.reader.getWorker('machine-2', 'worker-9'))?.currentJobs).toEqual([]);
    expect(await fx.reader.countByState()).toMatchObject({ completed: 0, failed: 1, running: 0 });
  });

  it("the superseded run's late events count as an older attempt's: no state, usage once", async () => {
    await fx.apply(
      jobEvent('job.received', 'again', 1, T, first),
      jobEvent('job.failed', 'again', 1, T + 10, {
        ...first,
        data: { durationMs: 9, willRetry: false, error: { type: 'Error', category: 'model', message: 'bad output' } },
        ai: { model: 'gpt-4o', inputTokens: 100, costUsd: 0.01 },
      }),
    );
    // Retried with resetAttemptsStarted: attempt 1 again, another span.
    await fx.apply(jobEvent('job.received', 'again', 1, T + 5000, second), jobEvent('job.started', 'again', 1, T + 5001, second));
    // A redelivery of the first run's failure, with more usage than it first reported.
    await fx.apply(
      jobEvent('job.failed', 'again', 1, T + 10, {
        ...first,
        data: { durationMs: 9, willRetry: false, error: { type: 'Error', category: 'model', message: 'bad output' } },
        ai: { model: 'gpt-4o', inputTokens: 150, costUsd: 0.015 },
      }),
    );
    expect(await fx.reader.getJob('again')).toMatchObject({ state: 'running', attempt: 1, ai: { inputTokens: 150, costUsd: 0.015 } });
    // The new run's usage counts from nothing, on top of the first run's.
    await fx.apply(jobEvent('job.completed', 'again', 1, T + 5100, { ...second, data: { durationMs: 99 }, ai: { model: 'gpt-4o', inputTokens: 40, costUsd: 0.004 } }));
    const job = await fx.reader.getJob('again');
    expect(job).toMatchObject({ state: 'completed', attempt: 1, durationMs: 99, ai: { inputTokens: 190, costUsd: 0.019 } });
  });

  it('the feed marks no willRetry on a late failure of the superseded run', async () => {
    await fx.apply(jobEvent('job.received', 'fw', 1, T, first), jobEvent('job.completed', 'fw', 1, T + 10, { ...first, data: { durationMs: 10 } }));
    await fx.apply(jobEvent('job.received', 'fw', 1, T + 1000, second));
    await fx.apply(jobEvent('job.failed', 'fw', 1, T + 9, { ...first, data: { durationMs: 9, willRetry: true, error: { type: 'Error', category: 'network', message: 'x' } } }));
    const feed = await fx.reader.readFeed({ afterId: '0', count: 10 });
    const last = feed.at(-1)!;
    expect(last).toMatchObject({ eventType: 'job.failed', jobId: 'fw', state: 'received' });
    expect(last.willRetry).toBeUndefined();
  });

  it('a job that failed its third attempt, retried with its attempts reset, runs attempt 1 again: the store follows it', async () => {
    const err = { type: 'Error', category: 'network', message: 'ECONNRESET' };
    const spans = ['a1a1a1a1a1a1a1a1', 'a2a2a2a2a2a2a2a2', 'a3a3a3a3a3a3a3a3'];
    for (const [i, sp] of spans.entries()) {
      const t = T + i * 1000;
      await fx.apply(
        jobEvent('job.received', 'r3', i + 1, t, run(sp)),
        jobEvent('job.failed', 'r3', i + 1, t + 10, { ...run(sp), data: { durationMs: 10, willRetry: i < 2, error: err } }),
      );
    }
    expect(await fx.reader.getJob('r3')).toMatchObject({ state: 'failed', attempt: 3, willRetry: false });
    await fx.apply(jobEvent('job.received', 'r3', 1, T + 60_000, second), jobEvent('job.started', 'r3', 1, T + 60_001, second));
    const running = await fx.reader.getJob('r3');
    expect(running).toMatchObject({ state: 'running', attempt: 1, receivedAt: T + 60_000 });
    expect(running?.willRetry).toBeUndefined();
    // A late event of the third attempt of the run before counts as an earlier run's: no state.
    await fx.apply(jobEvent('job.progress', 'r3', 3, T + 2005, { ...run(spans[2]!), data: { progress: 50 } }));
    expect(await fx.reader.getJob('r3')).toMatchObject({ state: 'running', attempt: 1 });
    await fx.apply(jobEvent('job.completed', 'r3', 1, T + 60_100, { ...second, data: { durationMs: 99 } }));
    expect(await fx.reader.getJob('r3')).toMatchObject({ state: 'completed', attempt: 1, durationMs: 99 });
  });

  it("a new run whose start comes before its received (another pipeline process, a claimed entry) is still a new run", async () => {
    await fx.apply(jobEvent('job.received', 'oo', 1, T, first), jobEvent('job.completed', 'oo', 1, T + 10, { ...first, data: { durationMs: 10 } }));
    await fx.apply(jobEvent('job.started', 'oo', 1, T + 5001, second));
    expect(await fx.reader.getJob('oo')).toMatchObject({ state: 'running', attempt: 1, startedAt: T + 5001 });
    await fx.apply(jobEvent('job.received', 'oo', 1, T + 5000, second));
    expect(await fx.reader.getJob('oo')).toMatchObject({ state: 'running', receivedAt: T + 5000, startedAt: T + 5001 });
    await fx.apply(
      jobEvent('job.failed', 'oo', 1, T + 5050, { ...second, data: { durationMs: 49, willRetry: false, error: { type: 'Error', category: 'model', message: 'x' } } }),
    );
    expect(await fx.reader.getJob('oo')).toMatchObject({ state: 'failed', finishedAt: T + 5050 });
  });

  it('a log line of the attempt from another worker (the stalled report) starts no run, nor takes the run from its span', async () => {
    const reporter = { machineId: 'machine-2', workerId: 'worker-9', serviceType: 'comfyui', connectorId: 'comfyui-local' };
    await fx.apply(jobEvent('job.received', 'st', 1, T, first), jobEvent('job.started', 'st', 1, T + 1, first));
    await fx.apply(jobEvent('log', 'st', 1, T + 3000, { ...run('5555555555555555'), source: reporter, level: 'warn', message: 'job stalled', attrs: { kind: 'stalled' } }));
    await fx.apply(jobEvent('job.completed', 'st', 1, T + 3100, { ...first, data: { durationMs: 3099 } }));
    await fx.apply(jobEvent('log', 'st', 1, T + 4000, { ...run('6666666666666666'), source: reporter, message: 'late note' }));
    expect(await fx.reader.getJob('st')).toMatchObject({ state: 'completed', durationMs: 3099 });
    // The run's own late event, after the log lines: the same run.
    await fx.apply(jobEvent('job.completed', 'st', 1, T + 3100, { ...first, data: { durationMs: 3099 } }));
    expect(await fx.reader.getJob('st')).toMatchObject({ state: 'completed', durationMs: 3099, finishedAt: T + 3100 });
  });

  it('runs A, B, C under attempt 1: a late failure of A counts as an earlier run, and each run counts its usage once', async () => {
    const third = run('3333333333333333');
    const ai = (inputTokens: number) => ({ ai: { model: 'gpt-4o', inputTokens } });
    const fail = (willRetry: boolean) => ({ data: { durationMs: 5, willRetry, error: { type: 'Error', category: 'network', message: 'x' } } });
    const aFailed = jobEvent('job.failed', 'abc', 1, T + 10, { ...first, ...fail(false), ...ai(100) });
    await fx.apply(jobEvent('job.received', 'abc', 1, T, first), aFailed);
    // B: attempt 1 again, fails with a retry; its attempt 2 uses 10 more.
    await fx.apply(jobEvent('job.received', 'abc', 1, T + 1000, second), jobEvent('job.failed', 'abc', 1, T + 1010, { ...second, ...fail(true), ...ai(40) }));
    await fx.apply(jobEvent('job.received', 'abc', 2, T + 2000, run('2b2b2b2b2b2b2b2b')), jobEvent('job.completed', 'abc', 2, T + 2010, { ...run('2b2b2b2b2b2b2b2b'), data: { durationMs: 10 }, ...ai(10) }));
    expect((await fx.reader.getJob('abc'))?.ai).toMatchObject({ inputTokens: 150 });
    // A redelivery of A's failure (the same event) and one of B's with more usage (a new event).
    await fx.apply(aFailed, jobEvent('job.failed', 'abc', 1, T + 1010, { ...second, ...fail(true), ...ai(45) }));
    expect(await fx.reader.getJob('abc')).toMatchObject({ state: 'completed', attempt: 2, ai: { inputTokens: 155 } });
    // C: attempt 1 again; then A's failure comes once more under another event id: an earlier run.
    await fx.apply(jobEvent('job.received', 'abc', 1, T + 5000, third));
    await fx.apply(jobEvent('job.failed', 'abc', 1, T + 10, { ...first, ...fail(false), ...ai(100) }));
    const job = await fx.reader.getJob('abc');
    expect(job).toMatchObject({ state: 'received', attempt: 1, receivedAt: T + 5000, ai: { inputTokens: 155 } });
    expect(job?.finishedAt).toBeUndefined();
  });

  it('a late end of a run that stalled (its worker finished after BullMQ re-ran the job elsewhere) starts no run', async () => {
    const other = { machineId: 'machine-2', workerId: 'worker-9', serviceType: 'comfyui', connectorId: 'comfyui-local' };
    await fx.apply(jobEvent('job.received', 'z', 2, T, second), jobEvent('job.started', 'z', 2, T + 1, second));
    await fx.apply(jobEvent('job.received', 'z', 3, T + 40_000, { ...run('3333333333333333'), source: other }), jobEvent('job.completed', 'z', 3, T + 40_010, { ...run('3333333333333333'), source: other, data: { durationMs: 10 } }));
    await fx.apply(jobEvent('job.completed', 'z', 2, T + 40_020, { ...second, data: { durationMs: 40_019 } }));
    expect(await fx.reader.getJob('z')).toMatchObject({ state: 'completed', attempt: 3, workerId: 'worker-9', durationMs: 10 });
  });

  it("a failure another worker reports for a run BullMQ fails without running (after it was put back) starts no run", async () => {
    const reporter = { machineId: 'machine-2', workerId: 'worker-9', serviceType: 'comfyui', connectorId: 'comfyui-local' };
    await fx.apply(
      jobEvent('job.received', 'pb', 4, T, first),
      jobEvent('job.started', 'pb', 4, T + 1, first),
      jobEvent('log', 'pb', 4, T + 50, { ...first, level: 'warn', message: 'job handed back to the queue at shutdown', attrs: { kind: 'handed_back', deadlineMs: 25000 } }),
    );
    expect(await fx.reader.getJob('pb')).toMatchObject({ state: 'retrying', attempt: 4 });
    await fx.apply(jobEvent('job.failed', 'pb', 4, T + 9000, { ...run('7777777777777777'), source: reporter, data: { durationMs: 0, willRetry: false, error: { type: 'UnrecoverableError', category: 'unknown', message: 'job stalled more than allowable limit' } } }));
    // The attempt ran (and was handed back) on worker-1: the reporter is not named as its worker.
    expect(await fx.reader.getJob('pb')).toMatchObject({ state: 'failed', attempt: 4, receivedAt: T, startedAt: T + 1, workerId: 'worker-1', machineId: 'machine-1' });
  });

  it('a job that stalled too often, failed by the worker that fetched it next: the job reads failed on the worker it ran on, listed by neither', async () => {
    const fetcher = { machineId: 'machine-2', workerId: 'worker-9', serviceType: 'comfyui', connectorId: 'comfyui-local' };
    await fx.apply(jobEvent('job.received', 'sf', 2, T, first), jobEvent('job.started', 'sf', 2, T + 1, first));
    expect((await fx.reader.getWorker('machine-1', 'worker-1'))?.currentJobs).toEqual(['sf']);
    await fx.apply(
      jobEvent('log', 'sf', 2, T + 30_000, { ...run('8888888888888888'), source: fetcher, level: 'warn', message: 'job stalled more often than allowed', attrs: { kind: 'stalled', final: true } }),
      jobEvent('job.failed', 'sf', 2, T + 31_000, {
        ...run('9999999999999999'),
        source: fetcher,
        data: { durationMs: 0, willRetry: false, error: { type: 'StalledError', category: 'timeout', message: 'job stalled more than allowable limit' } },
      }),
    );
    expect(await fx.reader.getJob('sf')).toMatchObject({ state: 'failed', attempt: 2, machineId: 'machine-1', workerId: 'worker-1', lastError: { type: 'StalledError' } });
    expect((await fx.reader.getWorker('machine-1', 'worker-1'))?.currentJobs).toEqual([]);
    expect((await fx.reader.getWorker('machine-2', 'worker-9'))?.currentJobs ?? []).toEqual([]);
    expect((await fx.reader.listJobs({ workerId: 'worker-1', state: 'failed' })).jobs.map((j) => j.id)).toEqual(['sf']);
  });

  it("a late received of an earlier attempt does not take the running attempt's span: its failure and retry stay one run", async () => {
    const a = run('aaaaaaaaaaaaaaaa');
    const b = run('bbbbbbbbbbbbbbbb');
    const err = { type: 'Error', category: 'network', message: 'x' };
    await fx.apply(jobEvent('job.failed', 'lr', 1, T + 10, { ...a, data: { durationMs: 9, willRetry: true, error: err }, ai: { inputTokens: 100 } }));
    await fx.apply(jobEvent('job.received', 'lr', 2, T + 1000, b), jobEvent('job.started', 'lr', 2, T + 1001, b));
    await fx.apply(jobEvent('job.received', 'lr', 1, T, a));
    await fx.apply(
      jobEvent('job.failed', 'lr', 2, T + 1050, { ...b, data: { durationMs: 49, willRetry: true, error: err }, ai: { inputTokens: 10 } }),
      jobEvent('job.retrying', 'lr', 2, T + 1051, { ...b, data: { nextAttempt: 3, delayMs: 100 } }),
    );
    const job = await fx.reader.getJob('lr');
    expect(job).toMatchObject({ state: 'retrying', attempt: 2, finishedAt: T + 1050, durationMs: 49, receivedAt: T + 1000, ai: { inputTokens: 110 } });
  });

  it('a job re-added in the same millisecond as the end of its run before is a new run', async () => {
    await fx.apply(jobEvent('job.received', 'ms', 1, T, first), jobEvent('job.completed', 'ms', 1, T + 10, { ...first, data: { durationMs: 10 } }));
    await fx.apply(jobEvent('job.received', 'ms', 1, T + 10, second));
    await fx.apply(jobEvent('job.failed', 'ms', 1, T + 20, { ...second, data: { durationMs: 10, willRetry: false, error: { type: 'Error', category: 'model', message: 'x' } } }));
    expect(await fx.reader.getJob('ms')).toMatchObject({ state: 'failed', attempt: 1, receivedAt: T + 10, finishedAt: T + 20 });
  });

  it('not a new run: a received with the same span, one before the end, or one while the attempt still runs', async () => {
    // A redelivered received of the run that completed (same span, same time: the id window may have forgotten it).
    await fx.apply(jobEvent('job.received', 'n1', 1, T, first), jobEvent('job.completed', 'n1', 1, T + 10, { ...first, data: { durationMs: 10 } }));
    await fx.apply(jobEvent('job.received', 'n1', 1, T + 20, first));
    expect(await fx.reader.getJob('n1')).toMatchObject({ state: 'completed', receivedAt: T });
    // Another span, but from before the recorded end (a second job context of a caller logging directly).
    await fx.apply(jobEvent('job.received', 'n2', 1, T, first), jobEvent('job.completed', 'n2', 1, T + 10, { ...first, data: { durationMs: 10 } }));
    await fx.apply(jobEvent('job.received', 'n2', 1, T + 5, second));
    expect(await fx.reader.getJob('n2')).toMatchObject({ state: 'completed' });
    // Another span while the attempt runs: the same attempt, not a new run.
    await fx.apply(jobEvent('job.received', 'n3', 1, T, first), jobEvent('job.started', 'n3', 1, T + 1, first));
    await fx.apply(jobEvent('job.received', 'n3', 1, T + 5, second));
    expect(await fx.reader.getJob('n3')).toMatchObject({ state: 'running', receivedAt: T, startedAt: T + 1 });
  });
});
