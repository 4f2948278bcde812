import { afterEach, describe, expect, it } from 'vitest';
import type { JobscopeEvent } from '../../../src/events/index.js';
import { createFeedSubscriber, createStatusReader, type FeedEntry } from '../../../src/status/index.js';
import { Redis } from 'ioredis';
import { makeEvent } from '../../helpers/events.js';
import { TEST_REDIS_URL, waitFor } from '../../helpers/redis.js';
import { jobEvent, statusFixture, workerEvent, type StatusFixture } from './status-fixture.js';

const T = 1_700_000_000_000;
let fx: StatusFixture | undefined;

/** A connection with a name of its own, so the test can see when it is blocked in XREAD. */
function namedConnection(name: string): Redis {
  return new Redis(TEST_REDIS_URL, { connectionName: name });
}

async function isBlockedInXread(observer: Redis, name: string): Promise<boolean> {
  const list = (await observer.client('LIST')) as string;
  return list.split('\n').some((line) => line.includes(`name=${name} `) && line.includes('cmd=xread'));
}

afterEach(async () => {
  await fx?.done();
  fx = undefined;
});

describe('worker registry', () => {
  it('judges liveness from heartbeats: busy, idle, dead, stopped', async () => {
    fx = statusFixture({}, { now: () => T + 2000 });
    await fx.apply(
      workerEvent('worker.started', 'w-busy', T, { version: '1.2.3', heartbeatIntervalMs: 1000 }),
      workerEvent('worker.heartbeat', 'w-busy', T + 1500, { intervalMs: 1000, currentJobs: ['job-a'] }),
      workerEvent('worker.heartbeat', 'w-idle', T + 1400, { intervalMs: 1000, currentJobs: [] }),
      workerEvent('worker.heartbeat', 'w-dead', T - 5000, { intervalMs: 1000, currentJobs: ['job-b'] }),
      workerEvent('worker.started', 'w-stopped', T),
      workerEvent('worker.heartbeat', 'w-stopped', T + 400, { intervalMs: 1000, currentJobs: ['job-c'] }),
      workerEvent('worker.stopped', 'w-stopped', T + 500, { reason: 'SIGTERM' }),
    );
    const workers = await fx.reader.listWorkers();
    const byId = Object.fromEntries(workers.map((w) => [w.workerId, w]));
    expect(byId['w-busy']).toMatchObject({ liveness: 'busy', currentJobs: ['job-a'], version: '1.2.3', startedAt: T, lastHeartbeatAt: T + 1500 });
    expect(byId['w-idle']).toMatchObject({ liveness: 'idle', currentJobs: [] });
    expect(byId['w-dead']).toMatchObject({ liveness: 'dead' });
    expect(byId['w-stopped']).toMatchObject({ liveness: 'stopped', currentJobs: [], stoppedAt: T + 500 });
    expect(workers[0]?.workerId).toBe('w-busy'); // most recently heard from first
  });

  it('a late heartbeat neither revives a stopped worker nor restores finished jobs', async () => {
    fx = statusFixture({}, { now: () => T + 1000 });
    await fx.apply(
      workerEvent('worker.heartbeat', 'w1', T + 300, { intervalMs: 1000, currentJobs: [] }),
      workerEvent('worker.stopped', 'w1', T + 400),
      workerEvent('worker.heartbeat', 'w1', T + 100, { intervalMs: 1000, currentJobs: ['old-job'] }),
    );
    expect(await fx.reader.getWorker('machine-1', 'w1')).toMatchObject({ liveness: 'stopped', currentJobs: [], lastHeartbeatAt: T + 300 });
    await fx.apply(workerEvent('worker.started', 'w1', T + 900));
    expect(await fx.reader.getWorker('machine-1', 'w1')).toMatchObject({ liveness: 'idle' });
  });

  it('job events make the worker busy with that job, and idle again when it ends', async () => {
    fx = statusFixture({}, { now: () => T + 100 });
    const source = { machineId: 'machine-1', workerId: 'w-job', serviceType: 'comfyui', connectorId: 'comfyui-local' };
    await fx.apply(jobEvent('job.started', 'jx', 1, T, { source }));
    expect(await fx.reader.getWorker('machine-1', 'w-job')).toMatchObject({ liveness: 'busy', currentJobs: ['jx'] });
    await fx.apply(jobEvent('job.completed', 'jx', 1, T + 50, { source, data: { durationMs: 50 } }));
    expect(await fx.reader.getWorker('machine-1', 'w-job')).toMatchObject({ liveness: 'idle', currentJobs: [] });
  });
});

/**
 * Worker A runs attempt 1 of a job and dies; worker B notices the stall, runs attempt 2 and
 * completes it: the events BullMQ and job-worker.ts send for it, in four parts whose order of
 * arrival at the sink may differ (stream shards, redeliveries, another pipeline process).
 */
function takeover(n: string) {
  const a = { machineId: 'machine-1', workerId: `a-${n}`, serviceType: 'comfyui', connectorId: 'comfyui-local' };
  const b = { machineId: 'machine-2', workerId: `b-${n}`, serviceType: 'comfyui', connectorId: 'comfyui-local' };
  const id = `took-${n}`;
  const beat = (source: typeof a, time: number, currentJobs: string[]) => makeEvent({ type: 'worker.heartbeat', source, time, data: { intervalMs: 1000, currentJobs } });
  const parts: Record<'aRun' | 'aBeat' | 'bStalled' | 'bRun', JobscopeEvent[]> = {
    aRun: [jobEvent('job.received', id, 1, T, { source: a }), jobEvent('job.started', id, 1, T + 10, { source: a })],
    // A's last heartbeat, with the job; none follow.
    aBeat: [beat(a, T + 100, [id])],
    // The stalled report comes from the worker whose stalled check found it, on the attempt that stalled.
    bStalled: [jobEvent('log', id, 1, T + 5000, { source: b, level: 'warn', message: 'job stalled: its worker stopped renewing the lock; BullMQ moved it to wait', attrs: { kind: 'stalled', state: 'wait' }, data: { kind: 'log' } })],
    bRun: [
      jobEvent('job.received', id, 2, T + 5100, { source: b }),
      jobEvent('job.started', id, 2, T + 5110, { source: b }),
      beat(b, T + 5500, [id]),
      jobEvent('job.completed', id, 2, T + 6000, { source: b, data: { durationMs: 890 } }),
    ],
  };
  return { a, b, id, parts };
}

describe('worker current jobs when another worker takes a job over', () => {
  // A's last sign of life is at T + 100 with a 1 s interval: dead by now; B heard from at T + 6000.
  const now = T + 7000;

  it('a dead worker stops listing a job another worker ran again and completed', async () => {
    fx = statusFixture({}, { now: () => now });
    const { a, b, id, parts } = takeover('in-order');
    await fx.apply(...parts.aRun, ...parts.aBeat);
    // Died holding it: listed, and the job is an orphan of a dead worker.
    expect(await fx.reader.getWorker(a.machineId, a.workerId)).toMatchObject({ liveness: 'dead', currentJobs: [id] });
    await fx.apply(...parts.bStalled);
    // A stalled report is no claim to run the job: the attempt stays A's until B takes the next one.
    expect(await fx.reader.getJob(id)).toMatchObject({ state: 'running', attempt: 1, workerId: a.workerId });
    expect((await fx.reader.getWorker(a.machineId, a.workerId))?.currentJobs).toEqual([id]);
    await fx.apply(parts.bRun[0]!);
    expect((await fx.reader.getWorker(a.machineId, a.workerId))?.currentJobs).toEqual([]);
    expect((await fx.reader.getWorker(b.machineId, b.workerId))?.currentJobs).toEqual([id]);
    for (const e of parts.bRun.slice(1)) await fx.apply(e);
    expect(await fx.reader.getJob(id)).toMatchObject({ state: 'completed', attempt: 2, workerId: b.workerId });
    expect(await fx.reader.getWorker(a.machineId, a.workerId)).toMatchObject({ liveness: 'dead', currentJobs: [] });
    expect(await fx.reader.getWorker(b.machineId, b.workerId)).toMatchObject({ liveness: 'idle', currentJobs: [] });
  });

  it('in every order of arrival, neither worker lists the completed job', async () => {
    fx = statusFixture({}, { now: () => now });
    const names = ['aRun', 'aBeat', 'bStalled', 'bRun'] as const;
    const orders: (typeof names[number])[][] = [];
    const permute = (done: (typeof names[number])[], rest: (typeof names[number])[]) => {
      if (rest.length === 0) orders.push(done);
      for (const p of rest) permute([...done, p], rest.filter((r) => r !== p));
    };
    permute([], [...names]);
    const wrong: string[] = [];
    // Each part in a call of its own, and all four in one call (the sink groups a call's events per job and worker).
    for (const oneCall of [false, true]) {
      for (const order of orders) {
        const { a, b, id, parts } = takeover(`${order.join('-')}${oneCall ? '-1' : ''}`);
        if (oneCall) await fx.apply(...order.flatMap((p) => parts[p]));
        else for (const p of order) await fx.apply(...parts[p]);
        const [wa, wb, job] = await Promise.all([fx.reader.getWorker(a.machineId, a.workerId), fx.reader.getWorker(b.machineId, b.workerId), fx.reader.getJob(id)]);
        if (wa?.currentJobs.length !== 0 || wb?.currentJobs.length !== 0 || job?.state !== 'completed' || job.workerId !== b.workerId) {
          wrong.push(`${order.join(' → ')}${oneCall ? ' (one call)' : ''}: A ${JSON.stringify(wa?.currentJobs)}, B ${JSON.stringify(wb?.currentJobs)}, job ${job?.state} on ${job?.workerId}`);
        }
      }
    }
    expect(orders).toHaveLength(24);
    expect(wrong).toEqual([]);
  });
});

describe('live feed', () => {
  it('readFeed from an id returns exactly the later changes', async () => {
    fx = statusFixture();
    await fx.apply(jobEvent('job.received', 'f1', 1, T), workerEvent('worker.heartbeat', 'w1', T));
    const first = await fx.reader.readFeed({ afterId: '0' });
    expect(first.map((e) => e.kind)).toEqual(['job', 'worker']);
    const after = first[first.length - 1]!.id;
    const started = jobEvent('job.started', 'f1', 1, T + 1);
    const progress = jobEvent('job.progress', 'f1', 1, T + 2, { data: { progress: 42.5 } });
    await fx.apply(started, progress);
    await fx.apply(started); // a duplicate is no change: no feed entry
    const later = await fx.reader.readFeed({ afterId: after });
    expect(later).toHaveLength(2);
    expect(later[0]).toMatchObject({ kind: 'job', eventId: started.id, eventType: 'job.started', jobId: 'f1', state: 'running', attempt: 1, time: T + 1 });
    expect(later[1]).toMatchObject({ eventId: progress.id, progress: 42.5, machineId: 'machine-1', workerId: 'worker-1', serviceType: 'comfyui', connectorId: 'comfyui-local' });
    expect(await fx.reader.readFeed({ afterId: later[1]!.id })).toEqual([]);
  });

  it('a job.failed entry says whether a retry follows, for the attempt it shows', async () => {
    fx = statusFixture();
    const error = { type: 'TimeoutError', category: 'timeout', message: 'timed out' };
    const failed = (attempt: number, time: number, willRetry?: boolean) => jobEvent('job.failed', 'wr1', attempt, time, { level: 'error', data: { durationMs: 5, error, ...(willRetry === undefined ? {} : { willRetry }) } });
    await fx.apply(
      jobEvent('job.started', 'wr1', 1, T),
      failed(1, T + 1, true),
      jobEvent('job.retrying', 'wr1', 1, T + 2, { data: { nextAttempt: 2 } }),
      jobEvent('job.started', 'wr1', 2, T + 3),
      failed(2, T + 4, false),
      jobEvent('job.started', 'wr2', 1, T + 5),
      jobEvent('job.failed', 'wr2', 1, T + 6, { level: 'error', data: { durationMs: 5, error } }),
    );
    const feed = await fx.reader.readFeed({ afterId: '0' });
    const failures = feed.filter((e) => e.eventType === 'job.failed').map(({ jobId, state, attempt, willRetry }) => ({ jobId, state, attempt, willRetry }));
    expect(failures).toEqual([
      { jobId: 'wr1', state: 'failed', attempt: 1, willRetry: true },
      { jobId: 'wr1', state: 'failed', attempt: 2, willRetry: false },
      { jobId: 'wr2', state: 'failed', attempt: 1, willRetry: undefined }, // the event did not say
    ]);
    expect(feed.filter((e) => e.eventType !== 'job.failed').every((e) => !('willRetry' in e))).toBe(true);
    // A late failure of attempt 1: the entry shows attempt 2, whose failure was final; attempt 1's
    // willRetry would mislabel it.
    await fx.apply(failed(1, T + 7, true));
    const late = await fx.reader.readFeed({ afterId: feed.at(-1)!.id });
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ eventType: 'job.failed', state: 'failed', attempt: 2 });
    expect(late[0]).not.toHaveProperty('willRetry');
  });

  it('a blocking read wakes up on the next change', async () => {
    fx = statusFixture();
    const name = `feed-${fx.prefix}`;
    const conn = namedConnection(name);
    const reader = createStatusReader({ redis: conn, prefix: fx.prefix });
    try {
      const pending = reader.readFeed({ afterId: '$', blockMs: 10_000 });
      await waitFor(() => isBlockedInXread(fx!.redis, name), { what: 'XREAD to block' });
      await fx.apply(jobEvent('job.received', 'f2', 1, T));
      const got = await pending;
      expect(got.map((e) => e.jobId)).toEqual(['f2']);
    } finally {
      conn.disconnect();
    }
  });

  it('the feed keeps at most about feedMax entries', async () => {
    fx = statusFixture({ feedMax: 100 });
    const events = Array.from({ length: 600 }, (_, i) => jobEvent('job.progress', `cap-${i % 5}`, 1, T + i, { data: { progress: i / 6 } }));
    await fx.apply(...events);
    const len = await fx.redis.xlen(`{${fx.prefix}}:feed`);
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThan(300);
  });

  it('a subscriber yields changes from where it started and ends on close', async () => {
    fx = statusFixture();
    await fx.apply(jobEvent('job.received', 'before', 1, T));
    const name = `sub-${fx.prefix}`;
    const conn = namedConnection(name);
    const sub = createFeedSubscriber({ redis: conn, prefix: fx.prefix, blockMs: 200 });
    const seen: FeedEntry[] = [];
    const loop = (async () => {
      for await (const batch of sub) seen.push(...batch);
    })();
    await waitFor(() => isBlockedInXread(fx!.redis, name), { what: 'subscriber to block' });
    await fx.apply(jobEvent('job.received', 's1', 1, T + 1), jobEvent('job.started', 's1', 1, T + 2));
    await waitFor(() => seen.length >= 2, { what: 'two feed entries' });
    await sub.close();
    await loop;
    expect(seen.map((e) => `${e.jobId}:${e.state}`)).toEqual(['s1:received', 's1:running']);
    expect(sub.lastId).toBe(seen[1]!.id);
    conn.disconnect();
  });
});

describe('retention', () => {
  it('prune removes jobs past the retention from every index, and keeps the recent ones', async () => {
    const now = Date.now();
    const hour = 3_600_000;
    fx = statusFixture({ retentionMs: hour, pruneBatchSize: 3 });
    const old = { machineId: 'old-machine', workerId: 'old-worker', serviceType: 'legacy', connectorId: 'old-conn' };
    const oldEvents = Array.from({ length: 5 }, (_, i) => jobEvent('job.completed', `old-${i}`, 1, now - 2 * hour + i, { source: old, data: { durationMs: 1 } }));
    await fx.apply(...oldEvents, jobEvent('job.received', 'fresh', 1, now));
    expect((await fx.reader.listJobs()).jobs).toHaveLength(6);
    // A batch of 3 per index per run: the work is bounded, and the next run finishes it.
    const first = await fx.sink.prune(now);
    expect(first.more).toBe(true);
    await fx.sink.prune(now);
    expect((await fx.reader.listJobs()).jobs.map((j) => j.id)).toEqual(['fresh']);
    expect((await fx.reader.listJobs({ serviceType: 'legacy' })).jobs).toEqual([]);
    expect(await fx.reader.countByState()).toMatchObject({ completed: 0, received: 1 });
    expect(await fx.reader.getJob('old-1')).toBeUndefined();
    expect(await fx.reader.getTimeline('old-1')).toEqual([]);
    expect((await fx.reader.listJobs({ idPrefix: 'old-' })).jobs).toEqual([]);
    expect((await fx.reader.listWorkers()).map((w) => w.workerId)).toEqual(['worker-1']);
    const registry = await fx.redis.smembers(`{${fx.prefix}}:idx:keys`);
    expect(registry.some((k) => k.includes('legacy') || k.includes('old-'))).toBe(false);
    // Job keys also carry a TTL, so they go even if no prune ever runs.
    const ttl = await fx.redis.pttl(`{${fx.prefix}}:job:fresh`);
    expect(ttl).toBeGreaterThan(hour - 60_000);
    expect(ttl).toBeLessThanOrEqual(hour);
  });
});
