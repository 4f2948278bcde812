import { afterEach, describe, expect, it } from 'vitest';
import type { JobscopeEvent } from '../../../src/events/index.js';
import { jobEvent, statusFixture, workerEvent, type StatusFixture } from './status-fixture.js';

/**
 * The sink applies a call's events grouped per job and worker (one read and one write each).
 * These tests hold it to the same results as applying the events one at a time, and check the
 * limits that grouping must keep: id window, timeline cap, per-event rejection, key TTLs, and
 * how stale the update-time indexes may get.
 */

const T = 1_700_000_000_000;
const fixtures: StatusFixture[] = [];

function fixture(...args: Parameters<typeof statusFixture>): StatusFixture {
  const fx = statusFixture(...args);
  fixtures.push(fx);
  return fx;
}

afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((fx) => fx.done()));
});

const err = { type: 'Error', category: 'network', message: 'ECONNRESET' };
const other = { machineId: 'machine-2', workerId: 'worker-7', serviceType: 'openai', connectorId: 'openai-api' };

/** Interleaved lifecycles of 12 jobs: retries, a move to another worker, usage, log lines. */
function mixedEvents(): JobscopeEvent[] {
  const perJob: JobscopeEvent[][] = [];
  for (let j = 0; j < 12; j++) {
    const id = `mix-${j}`;
    const t = T + j * 10;
    const evs = [
      jobEvent('job.received', id, 1, t, { data: { enqueuedAt: t - 5, queueWaitMs: 5 }, ai: { model: `model-${j % 3}` } }),
      jobEvent('job.started', id, 1, t + 1),
      jobEvent('job.progress', id, 1, t + 2, { data: { progress: 30, stage: 'a' }, ai: { inputTokens: 10, costUsd: 0.1 } }),
      jobEvent('log', id, 1, t + 3, { data: { kind: 'log' }, message: 'halfway' }),
      jobEvent('job.progress', id, 1, t + 4, { data: { progress: 60, stage: 'b' } }),
    ];
    if (j % 3 === 0) {
      evs.push(
        jobEvent('job.failed', id, 1, t + 5, { data: { durationMs: 4, willRetry: true, error: err } }),
        jobEvent('job.retrying', id, 1, t + 6, { data: { nextAttempt: 2, delayMs: 10 } }),
        jobEvent('job.started', id, 2, t + 7, { source: other }),
        jobEvent('job.completed', id, 2, t + 8, { source: other, data: { durationMs: 1 }, ai: { outputTokens: 5, costUsd: 0.2 } }),
      );
    } else if (j % 3 === 1) {
      evs.push(jobEvent('job.completed', id, 1, t + 5, { data: { durationMs: 4 }, ai: { outputTokens: 3 } }));
    }
    perJob.push(evs);
  }
  // Round-robin over the jobs, then a few events late and twice (at-least-once delivery).
  const out: JobscopeEvent[] = [];
  for (let k = 0; k < 9; k++) for (const evs of perJob) if (evs[k]) out.push(evs[k]!);
  const late = out.splice(5, 3);
  out.push(...late, out[0]!, out[17]!, late[1]!);
  out.push(workerEvent('worker.heartbeat', 'hb-1', T + 50, { intervalMs: 1000, currentJobs: ['x'] }));
  out.push(workerEvent('worker.heartbeat', 'hb-1', T + 40, { intervalMs: 1000, currentJobs: ['stale'] }));
  return out;
}

/** What a reader sees of a store: jobs, timelines, counts, workers and the feed (ids stripped). */
async function snapshot(fx: StatusFixture) {
  const page = await fx.reader.listJobs({}, { limit: 100 });
  const timelines = await Promise.all(page.jobs.map((j) => fx.reader.getTimeline(j.id)));
  const feed = (await fx.reader.readFeed({ afterId: '0', count: 1000 })).map(({ id: _id, ...rest }) => rest);
  const workers = await fx.reader.listWorkers();
  return { jobs: page.jobs, timelines, counts: await fx.reader.countByState(), workers, feed };
}

describe('status sink: grouped application', () => {
  it('a whole batch in one call leaves exactly what one event per call leaves', async () => {
    const events = mixedEvents();
    const grouped = fixture({ indexRefreshMs: 0 }, { now: () => T + 100 });
    const single = fixture({ indexRefreshMs: 0, eventsPerCall: 1 }, { now: () => T + 100 });
    await grouped.apply(...events);
    await single.apply(...events);
    const a = await snapshot(grouped);
    expect(a).toEqual(await snapshot(single));
    expect(grouped.sink.stats()).toEqual(single.sink.stats());
    expect(grouped.sink.stats()).toMatchObject({ duplicates: 3, rejected: 0 });
    // Spot checks of what the mix should produce.
    expect(a.jobs.find((j) => j.id === 'mix-0')).toMatchObject({
      state: 'completed', attempt: 2, workerId: 'worker-7', ai: { inputTokens: 10, outputTokens: 5, costUsd: 0.3 },
    });
    expect(a.counts).toMatchObject({ completed: 8, running: 4 });
    expect(a.workers.find((w) => w.workerId === 'hb-1')?.currentJobs).toEqual(['x']);
    expect(a.feed).toHaveLength(events.length - 3);
  });

  it('rejects the one event whose record field is corrupt; the rest of its job still applies', async () => {
    const fx = fixture();
    await fx.apply(jobEvent('job.received', 'c1', 1, T));
    await fx.redis.hset(`{${fx.prefix}}:job:c1`, 'inputTokens', '1.5');
    const bad = jobEvent('job.progress', 'c1', 1, T + 1, { data: { progress: 10 }, ai: { inputTokens: 3 } });
    const good = jobEvent('job.progress', 'c1', 1, T + 2, { data: { progress: 20 } });
    const r = await fx.sink.write([bad, good], new AbortController().signal);
    expect(r.rejected).toEqual([{ eventId: bad.id, reason: 'status store could not apply the event: hash value is not an integer' }]);
    expect(await fx.reader.getJob('c1')).toMatchObject({ progress: 20, eventCount: 2 });
    expect((await fx.reader.getTimeline('c1')).map((e) => e.eventId)).not.toContain(bad.id);
  });

  it('caps the timeline and the id window within one call', async () => {
    const fx = fixture({ timelineMax: 10, dedupeWindow: 5 });
    const events = Array.from({ length: 25 }, (_, i) => jobEvent('job.progress', 'long', 1, T + i, { data: { progress: i * 4 } }));
    await fx.apply(...events);
    const timeline = await fx.reader.getTimeline('long');
    expect(timeline.map((e) => e.eventId)).toEqual(events.slice(15).map((e) => e.id));
    expect(await fx.reader.getJob('long')).toMatchObject({ eventCount: 25, progress: 96 });
    expect(await fx.redis.zcard(`{${fx.prefix}}:job:long:seen`)).toBe(5);
    await fx.apply(...events.slice(20));
    expect(fx.sink.stats()).toMatchObject({ applied: 25, duplicates: 5 });
  });

  it('gives every job and worker key a TTL no longer than the retention', async () => {
    const hour = 3_600_000;
    const fx = fixture({ retentionMs: hour });
    await fx.apply(...mixedEvents());
    await fx.apply(workerEvent('worker.started', 'w-new', T + 60));
    // worker-1 is known from job events already; its first own event starts its id window.
    await fx.apply(workerEvent('worker.heartbeat', 'worker-1', T + 70, { intervalMs: 1000, currentJobs: [] }));
    const keys = await fx.redis.keys(`{${fx.prefix}}:*`);
    const base = `{${fx.prefix}}:`;
    const mortal = keys.filter((k) => k.startsWith(`${base}job:`) || k.startsWith(`${base}worker:`));
    expect(mortal.length).toBeGreaterThan(30);
    const ttls = await Promise.all(mortal.map((k) => fx.redis.pttl(k)));
    const immortal = mortal.filter((_, i) => !(ttls[i]! > 0 && ttls[i]! <= hour));
    expect(immortal).toEqual([]);
  });
});

describe('status sink: update-time indexes', () => {
  it('progress moves a job in the update-time listing at most once per indexRefreshMs; state changes at once', async () => {
    const fx = fixture({ indexRefreshMs: 1000 });
    await fx.apply(jobEvent('job.started', 'ix', 1, T), jobEvent('job.received', 'other', 1, T + 100));
    const first = async () => (await fx.reader.listJobs({}, { limit: 1 })).jobs[0]?.id;
    expect(await first()).toBe('other');
    await fx.apply(jobEvent('job.progress', 'ix', 1, T + 500, { data: { progress: 10 } }));
    expect(await fx.reader.getJob('ix')).toMatchObject({ progress: 10, updatedAt: T + 500 });
    expect(await first()).toBe('other'); // within the second: its place is kept
    await fx.apply(jobEvent('job.progress', 'ix', 1, T + 1200, { data: { progress: 20 } }));
    expect(await first()).toBe('ix');
    expect((await fx.reader.listJobs({ from: T + 1100, serviceType: 'comfyui' })).jobs.map((j) => j.id)).toEqual(['ix']);
    await fx.apply(jobEvent('job.completed', 'ix', 1, T + 1300, { data: { durationMs: 1300 } }));
    expect((await fx.reader.listJobs({ state: 'completed', from: T + 1250 })).jobs.map((j) => j.id)).toEqual(['ix']);
    expect((await fx.reader.listJobs({ state: 'running' })).jobs).toEqual([]);
  });

  it('with indexRefreshMs 0 every change moves the job', async () => {
    const fx = fixture({ indexRefreshMs: 0 });
    await fx.apply(jobEvent('job.started', 'ix0', 1, T), jobEvent('job.received', 'other', 1, T + 100));
    await fx.apply(jobEvent('job.progress', 'ix0', 1, T + 101, { data: { progress: 10 } }));
    expect((await fx.reader.listJobs({}, { limit: 1 })).jobs[0]?.id).toBe('ix0');
  });
});
