import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createSimulatedConnector } from '../../../connectors/simulated.js';
import type { JobscopeEvent } from '../../../src/events/index.js';
import { createJobWorker, type JobWorker, type JobWorkerOptions } from '../../../src/jobs/job-worker.js';
import { loadPriceTable } from '../../../src/jobs/price-table.js';
import { createPricing } from '../../../src/jobs/pricing.js';
import { createJobProducer, type JobProducer } from '../../../src/jobs/producer.js';
import type { ConnectorLogger } from '../../../src/logger/connector-logger.js';
import { cleanupPrefix, TEST_REDIS_URL, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';
import { lifecycle, streamEvents, testLogger } from './stream-events.js';

let redis: Redis;
let prefix: string;
let logger: ConnectorLogger;
let producer: JobProducer;
let worker: JobWorker | undefined;
const queue = 'jobs';

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('jobs');
  logger = testLogger(prefix);
  producer = createJobProducer({ connection: TEST_REDIS_URL, queue, bullPrefix: `${prefix}-bull`, prefix });
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await producer.close();
  await logger.close();
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

function startWorker(extra: Pick<JobWorkerOptions, 'shutdownTimeoutMs' | 'onError'> = {}): JobWorker {
  worker = createJobWorker({
    connection: TEST_REDIS_URL,
    queue,
    connector: createSimulatedConnector({ seed: 7, latencyMs: { min: 20, max: 40 }, progressSteps: 2, usage: { provider: 'openai' } }),
    logger,
    concurrency: 4,
    heartbeatIntervalMs: 100,
    prefix,
    bullPrefix: `${prefix}-bull`,
    pricing: createPricing(loadPriceTable()),
    ...extra,
  });
  return worker;
}

async function settled(ids: string[]): Promise<void> {
  await waitFor(
    async () => {
      const states = await Promise.all(ids.map(async (id) => (await producer.queue.getJob(id))?.getState()));
      return states.every((s) => s === 'completed' || s === 'failed');
    },
    { what: 'every job completed or failed' },
  );
}

const usage = { model: 'gpt-4o-mini', inputTokens: 1200, outputTokens: 300 };

describe('job worker', () => {
  it('reports each job lifecycle exactly: order, attempts, retries, durations, identity, cost, trace', async () => {
    const w = startWorker();
    await w.ready;
    const jobs = {
      ok: await producer.enqueue('chat', { simulate: usage }, { jobId: 'ok' }),
      flaky: await producer.enqueue('chat', { simulate: { ...usage, fail: 'network', failAttempts: 1 } }, { jobId: 'flaky', attempts: 3, backoff: { type: 'fixed', delay: 50 } }),
      exhausted: await producer.enqueue('chat', { simulate: { ...usage, fail: 'timeout' } }, { jobId: 'exhausted', attempts: 2, backoff: { type: 'exponential', delay: 20 } }),
      invalid: await producer.enqueue('chat', { simulate: { fail: 'validation' } }, { jobId: 'invalid', attempts: 3 }),
    };
    await settled(Object.keys(jobs));
    await w.close('test done');
    await logger.flush(5000);
    const events = await streamEvents(redis, prefix);

    const run = (a: number, progress: number) => [`job.received@${a}`, `job.started@${a}`, ...Array<string>(progress).fill(`job.progress@${a}`)];
    expect(lifecycle(events, 'ok')).toEqual([...run(1, 2), 'job.completed@1']);
    expect(lifecycle(events, 'flaky')).toEqual([...run(1, 1), 'job.failed@1', 'job.retrying@1', ...run(2, 2), 'job.completed@2']);
    expect(lifecycle(events, 'exhausted')).toEqual([...run(1, 1), 'job.failed@1', 'job.retrying@1', ...run(2, 1), 'job.failed@2']);
    expect(lifecycle(events, 'invalid')).toEqual([...run(1, 1), 'job.failed@1']);

    const of = <T extends JobscopeEvent['type']>(id: string, type: T) => events.filter((e): e is Extract<JobscopeEvent, { type: T }> => e.job?.id === id && e.type === type);
    // Durations, queue wait and identity.
    for (const e of events.filter((x) => x.type === 'job.completed' || x.type === 'job.failed')) {
      expect((e.data as { durationMs: number }).durationMs).toBeGreaterThan(0);
      expect(e.source).toMatchObject({ machineId: 'test-machine', workerId: 'worker-1', serviceType: 'simulated' });
      expect(e.job).toMatchObject({ queue, name: 'chat' });
    }
    const received = of('ok', 'job.received')[0]!;
    expect(received.data.enqueuedAt).toBe(jobs.ok.job.timestamp);
    expect(received.data.queueWaitMs).toBeGreaterThanOrEqual(0);
    // A retry reports no queue wait: its time since the enqueue holds attempt 1 and the backoff.
    expect(of('flaky', 'job.received').map((e) => e.data.queueWaitMs === undefined)).toEqual([false, true]);
    expect(of('flaky', 'job.received').map((e) => e.data.enqueuedAt)).toEqual([jobs.flaky.job.timestamp, undefined]);
    // Retries: willRetry, next attempt and the backoff delay BullMQ will wait.
    expect(of('flaky', 'job.failed')[0]!.data).toMatchObject({ willRetry: true, error: { category: 'network' } });
    expect(of('flaky', 'job.retrying')[0]!.data).toMatchObject({ nextAttempt: 2, delayMs: 50 });
    expect(of('exhausted', 'job.retrying')[0]!.data).toMatchObject({ nextAttempt: 2, delayMs: 20 });
    expect(of('exhausted', 'job.failed').map((e) => e.data.willRetry)).toEqual([true, false]);
    expect(of('invalid', 'job.failed')[0]!.data).toMatchObject({ willRetry: false, error: { category: 'validation' } });
    expect((await producer.queue.getJob('invalid'))!.attemptsMade).toBe(1);
    // Cost: gpt-4o-mini at $0.15 / $0.60 per 1M tokens.
    const completed = of('ok', 'job.completed')[0]!;
    expect(completed.ai).toMatchObject({ model: 'gpt-4o-mini', provider: 'openai', inputTokens: 1200, outputTokens: 300 });
    expect(completed.ai!.costUsd).toBeCloseTo((1200 * 0.15 + 300 * 0.6) / 1e6, 12);
    expect(of('flaky', 'job.completed')[0]!.ai!.costUsd).toBeGreaterThan(0);
    // One trace from enqueue to every attempt.
    for (const [id, enq] of Object.entries(jobs)) {
      for (const e of events.filter((x) => x.job?.id === id)) {
        expect(e.trace).toMatchObject({ traceId: enq.traceId, parentSpanId: enq.traceparent.slice(36, 52) });
      }
    }
    // The worker's own lifecycle.
    expect(events[0]!.type).toBe('worker.started');
    expect(events.at(-1)).toMatchObject({ type: 'worker.stopped', data: { reason: 'test done' } });
    expect(events.some((e) => e.type === 'worker.heartbeat')).toBe(true);
  });

  it("enqueueing a job id BullMQ already has returns that job's trace, not a new one", async () => {
    const first = await producer.enqueue('x', { n: 1 }, { jobId: 'same-id' });
    const again = await producer.enqueue('x', { n: 2 }, { jobId: 'same-id' });
    expect(again.job.data).toMatchObject({ n: 1 });
    expect(again.traceparent).toBe(first.traceparent);
    expect(again.traceId).toBe(first.traceId);
  });

  it('heartbeats carry the ids of the running jobs', async () => {
    const w = startWorker();
    await w.ready;
    await producer.enqueue('slow', { simulate: { latencyMs: 800, steps: 1 } }, { jobId: 'slow' });
    await waitFor(async () => (await streamEvents(redis, prefix)).some((e) => e.type === 'worker.heartbeat' && e.data.currentJobs.includes('slow')), {
      what: 'a heartbeat listing the running job',
    });
  });

  it('cancels a running job: job.cancelled, the job fails and is not retried', async () => {
    const w = startWorker();
    await w.ready;
    await producer.enqueue('stuck', { simulate: { stuck: true } }, { jobId: 'stuck', attempts: 3 });
    await waitFor(() => w.activeJobs().includes('stuck'), { what: 'the job to run' });
    expect(await producer.cancel('stuck', 'user pressed cancel')).toBe(1);
    await settled(['stuck']);
    const job = (await producer.queue.getJob('stuck'))!;
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain('user pressed cancel');
    await logger.flush(5000);
    const events = await streamEvents(redis, prefix);
    expect(lifecycle(events, 'stuck')).toEqual(['job.received@1', 'job.started@1', 'job.cancelled@1']);
    expect(events.find((e) => e.type === 'job.cancelled')!.data).toMatchObject({ reason: 'user pressed cancel' });
  });

  it("cancels a job by the id the dashboard shows (BullMQ's numeric id qualified with its queue)", async () => {
    const w = startWorker();
    await w.ready;
    // Added without the producer: BullMQ numbers them, telemetry shows `jobs:<n>`.
    const a = await producer.queue.add('stuck', { simulate: { stuck: true } });
    const b = await producer.queue.add('stuck', { simulate: { stuck: true } });
    await waitFor(() => w.activeJobs().length === 2, { what: 'both jobs to run' });
    expect(w.activeJobs().sort()).toEqual([`${queue}:${a.id}`, `${queue}:${b.id}`].sort());
    expect(w.cancelJob(`${queue}:${a.id}`, 'from the worker')).toBe(true);
    expect(await producer.cancel(`${queue}:${b.id}`, 'from the dashboard')).toBe(1);
    await settled([a.id!, b.id!]);
    expect((await producer.queue.getJob(a.id!))!.failedReason).toContain('from the worker');
    expect((await producer.queue.getJob(b.id!))!.failedReason).toContain('from the dashboard');
    await logger.flush(5000);
    const events = await streamEvents(redis, prefix);
    expect(lifecycle(events, `${queue}:${b.id}`)).toEqual(['job.received@1', 'job.started@1', 'job.cancelled@1']);
  });

  it('a repeat enqueued again updates its schedule instead of adding one per call, and its runs have ids unique to the queue', async () => {
    const repeat = { every: 60_000, immediately: true };
    for (let i = 0; i < 3; i++) await producer.enqueue('hourly', { simulate: { latencyMs: 5 } }, { repeat });
    expect(await producer.queue.getRepeatableJobs()).toHaveLength(1);
    const w = startWorker();
    await w.ready;
    await waitFor(async () => (await producer.queue.getCompletedCount()) >= 1, { what: 'the first run to complete' });
    await logger.flush(5000);
    const ids = [...new Set((await streamEvents(redis, prefix)).filter((e) => e.type === 'job.completed').map((e) => e.job!.id))];
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(new RegExp(`^${queue}:repeat:`));
    expect(await producer.queue.removeRepeatable('hourly', repeat)).toBe(true);
    expect(await producer.queue.getRepeatableJobs()).toHaveLength(0);
  });

  it('cancels a job requested before it started', async () => {
    const w = startWorker();
    await w.ready;
    const { job } = await producer.enqueue('later', { simulate: { latencyMs: 2000, steps: 1 } }, { jobId: 'later', delay: 1000, attempts: 2 });
    await producer.cancel(job.id!, 'no longer needed');
    await settled(['later']);
    await logger.flush(5000);
    const events = await streamEvents(redis, prefix);
    expect(lifecycle(events, 'later')).toEqual(['job.received@1', 'job.started@1', 'job.cancelled@1']);
  });

  it('cancels a job whose cancel request was stored before the worker started', async () => {
    await producer.enqueue('early', { simulate: { latencyMs: 2000, steps: 1 } }, { jobId: 'early', attempts: 2 });
    await producer.cancel('early', 'cancelled while no worker ran');
    await startWorker().ready;
    await settled(['early']);
    await logger.flush(5000);
    expect(lifecycle(await streamEvents(redis, prefix), 'early')).toEqual(['job.received@1', 'job.started@1', 'job.cancelled@1']);
  });

  it('at shutdown past the deadline hands running jobs back instead of failing them', async () => {
    const errors: unknown[] = [];
    const w = startWorker({ shutdownTimeoutMs: 200, onError: (err) => errors.push(err) });
    await w.ready;
    await producer.enqueue('stuck', { simulate: { stuck: true } }, { jobId: 'stuck' });
    await waitFor(() => w.activeJobs().includes('stuck'), { what: 'the job to run' });
    await w.close('SIGTERM');
    await logger.flush(5000);
    const events = await streamEvents(redis, prefix);
    expect(lifecycle(events, 'stuck')).toEqual(['job.received@1', 'job.started@1']);
    expect(events.at(-1)).toMatchObject({ type: 'worker.stopped' });
    expect((events.at(-1)!.data as { reason: string }).reason).toContain('handed back');
    // What the operator reads: the drain timed out, and the job goes back (not "handing back failed").
    expect(errors.map((e) => (e as Error).message)).toEqual([
      'draining 1 job(s) (stuck) at shutdown did not finish within 200 ms; handing them back to the queue (another worker takes them after their lock expires)',
    ]);
    // Still active in BullMQ: its lock expires and the stalled check gives it to another worker.
    expect(await (await producer.queue.getJob('stuck'))!.getState()).toBe('active');
  });
});
