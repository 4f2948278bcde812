import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStatusReader } from '../../../src/status/status-reader.js';
import { createStuckDetector } from '../../../src/stuck/stuck-detector.js';
import { makeEvent } from '../../helpers/events.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../helpers/redis.js';
import { bearer, lifecycle, seed, testApp } from '../api/api-fixtures.js';

const MIN = 60_000;
let redis: Redis;
let prefix: string;
const t0 = Date.now();

function heartbeat(machineId: string, workerId: string, time: number, currentJobs: string[]) {
  return makeEvent({
    type: 'worker.heartbeat',
    time,
    source: { machineId, workerId, serviceType: 'comfyui', connectorId: 'comfyui-local' },
    data: { intervalMs: 5000, currentJobs },
  });
}

beforeAll(async () => {
  redis = testRedis();
  prefix = testPrefix('stuck');
  const fast = Array.from({ length: 20 }, (_, i) => lifecycle({ id: `fast-done-${i}`, service: 'fast', worker: 'worker-f', time: t0 - 20 * MIN + i, durationMs: 1000 })).flat();
  await seed(redis, prefix, [
    ...fast,
    ...lifecycle({ id: 'run-old', until: 'running', time: t0 }),
    ...lifecycle({ id: 'recv-old', until: 'received', time: t0 }),
    ...lifecycle({ id: 'chat-run', service: 'openai', until: 'running', time: t0 }),
    ...lifecycle({ id: 'orphan-job', worker: 'worker-dead', until: 'running', time: t0 }),
    ...lifecycle({ id: 'fast-run', service: 'fast', worker: 'worker-f', until: 'running', time: t0 }),
    heartbeat('machine-1', 'worker-dead', t0, ['orphan-job']),
    // The live workers keep beating (their last heartbeat is after every clock used below).
    heartbeat('machine-1', 'worker-1', t0 + 20 * MIN, ['run-old', 'chat-run']),
    heartbeat('machine-1', 'worker-f', t0 + 20 * MIN, ['fast-run']),
  ]);
});

afterAll(async () => {
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

function detectorAt(nowMs: number, registry?: Registry) {
  const reader = createStatusReader({ redis, prefix, now: () => nowMs });
  return createStuckDetector({ reader, now: () => nowMs, registry, thresholds: { byService: { openai: MIN } } });
}

const ids = (jobs: { id: string }[]) => jobs.map((j) => j.id).sort();

describe('stuck detection', () => {
  it('flags a job silent past its service threshold, and orphans of a dead worker, early on', async () => {
    const s = await detectorAt(t0 + 2 * MIN).refresh();
    // openai: 1 min configured; fast: learned (floored at 30 s); comfyui: 10 min default.
    expect(ids(s.stuck)).toEqual(['chat-run', 'fast-run']);
    expect(ids(s.orphaned)).toEqual(['orphan-job']); // no heartbeat for 3 × 5 s
    expect(s.waitingTooLong).toEqual([]);
    expect(s.thresholds).toMatchObject({ default: 10 * MIN, openai: MIN });
  });

  it('learns a threshold from recent durations when a service has 20 completed jobs', async () => {
    const reader = createStatusReader({ redis, prefix, now: () => t0 + 10_000 });
    const detector = createStuckDetector({ reader, now: () => t0 + 10_000, thresholds: { minLearnedMs: 1000 } });
    const s = await detector.refresh();
    expect(s.thresholds.fast).toBe(3000); // p99 1000 ms × 3
    expect(ids(s.stuck)).toEqual(['fast-run']);
  });

  it('after the default threshold, flags every silent job, waiting ones too, and sets the gauges', async () => {
    const registry = new Registry();
    const s = await detectorAt(t0 + 11 * MIN, registry).refresh();
    expect(ids(s.stuck)).toEqual(['chat-run', 'fast-run', 'orphan-job', 'recv-old', 'run-old']);
    expect(ids(s.waitingTooLong)).toEqual(['recv-old']);
    expect(ids(s.orphaned)).toEqual(['orphan-job']);
    const text = await registry.metrics();
    expect(text).toContain('jobscope_jobs_stuck{service_type="comfyui"} 3');
    expect(text).toContain('jobscope_jobs_stuck{service_type="openai"} 1');
    expect(text).toContain('jobscope_jobs_orphaned{service_type="comfyui"} 1');
    expect(text).toContain('jobscope_jobs_waiting_too_long{queue="images"} 1');
    expect(text).toContain('jobscope_workers{liveness="dead"} 1');
    expect(text).toContain('jobscope_jobs_by_state{state="running"} 4');
  });

  it('shows the flags in /api/stuck and on the job in /api/jobs/:id', async () => {
    const clock = () => t0 + 11 * MIN;
    const app = testApp(redis, prefix, {
      createReader: (r) => createStatusReader({ redis: r, prefix, now: clock }),
      stuck: { now: clock },
    });
    const body = (await (await app.request('/api/stuck', bearer())).json()) as { orphaned: { id: string; flags: object }[] };
    expect(body.orphaned.map((j) => j.id)).toEqual(['orphan-job']);
    expect(body.orphaned[0]!.flags).toEqual({ stuck: true, orphaned: true });
    const job = (await (await app.request('/api/jobs/recv-old', bearer())).json()) as { job: { flags: object } };
    expect(job.job.flags).toEqual({ stuck: true, waitingTooLong: true });
    await app.close();
  });
});
