import { Worker, type BackoffStrategy } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector, ConnectorJob } from '../../../connectors/connector.js';
import { ConnectorError } from '../../../connectors/connector-error.js';
import type { JobscopeEvent } from '../../../src/events/index.js';
import { cancelMarksKey, cancelReasonsKey } from '../../../src/jobs/cancel-requests.js';
import { createJobWorker, type JobWorker, type JobWorkerOptions } from '../../../src/jobs/job-worker.js';
import { createJobProducer, type JobProducer } from '../../../src/jobs/producer.js';
import { asBullConnection, bullClient } from '../../../src/jobs/redis-connection.js';
import type { ConnectorLogger } from '../../../src/logger/connector-logger.js';
import { createOtelSink } from '../../../src/sinks/otel/index.js';
import { createStatusSink } from '../../../src/sinks/status/index.js';
import { createStatusReader } from '../../../src/status/index.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver.js';
import { cleanupPrefix, TEST_REDIS_URL, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';
import { lifecycle, streamEvents, testLogger } from './stream-events.js';

/**
 * Lifecycle edge cases of the job-worker runtime against real BullMQ and Redis: what a user sees
 * when a job is cancelled before it starts, retried after a cancel, running while its worker
 * drains, failed by BullMQ after too many stalls, stopped by a custom backoff, or delayed.
 */

let redis: Redis;
let prefix: string;
let logger: ConnectorLogger;
let producer: JobProducer;
const workers: JobWorker[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
const queue = 'lifecycle';

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('lifecycle');
  logger = testLogger(prefix);
  producer = createJobProducer({ connection: TEST_REDIS_URL, queue, bullPrefix: `${prefix}-bull`, prefix });
});

afterEach(async () => {
  for (const w of workers.splice(0)) await w.close();
  for (const c of cleanups.splice(0)) await c().catch(() => undefined);
  await producer.close();
  await logger.close();
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

/**
 * A connector that records every run. `data.failUntil`: the attempts up to it throw a retryable
 * error; `data.latencyMs`: how long a run takes (default 5).
 */
function recordingConnector(): Connector & { runs: ConnectorJob[] } {
  const runs: ConnectorJob[] = [];
  return {
    serviceType: 'simulated',
    name: 'recording',
    runs,
    async run(job, ctx) {
      runs.push(job);
      const data = job.data as { failUntil?: number; latencyMs?: number };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, data.latencyMs ?? 5);
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      if ((data.failUntil ?? 0) >= job.attempt) throw new Error('upstream unavailable');
      return { outputCount: 1 };
    },
  };
}

function startWorker(connector: Connector, extra: Partial<JobWorkerOptions> = {}): JobWorker {
  const w = createJobWorker({
    connection: TEST_REDIS_URL,
    queue,
    connector,
    logger,
    concurrency: 2,
    heartbeatIntervalMs: 100,
    prefix,
    bullPrefix: `${prefix}-bull`,
    ...extra,
  });
  workers.push(w);
  return w;
}

async function stateOf(id: string): Promise<string | undefined> {
  return (await producer.queue.getJob(id))?.getState();
}

async function settled(id: string, state: 'completed' | 'failed' = 'completed'): Promise<void> {
  await waitFor(async () => (await stateOf(id)) === state, { what: `job ${id} ${state}` });
}

const ofType = <T extends JobscopeEvent['type']>(events: JobscopeEvent[], id: string, type: T) =>
  events.filter((e): e is Extract<JobscopeEvent, { type: T }> => e.job?.id === id && e.type === type);

describe('job worker lifecycle', () => {
  it('a cancel requested before the job starts ends it as cancelled without running the connector', async () => {
    const connector = recordingConnector();
    const w = startWorker(connector);
    await w.ready;
    await producer.enqueue('sync', { latencyMs: 2000 }, { jobId: 'early', delay: 1000, attempts: 2 });
    await producer.cancel('early', 'no longer needed');
    await settled('early', 'failed');
    await logger.flush(5000);
    expect(connector.runs).toEqual([]);
    const events = await streamEvents(redis, prefix);
    expect(lifecycle(events, 'early')).toEqual(['job.received@1', 'job.started@1', 'job.cancelled@1']);
    const cancelled = ofType(events, 'early', 'job.cancelled')[0]!;
    expect(cancelled.data.reason).toBe('no longer needed');
    expect(cancelled.data.durationMs).toBeLessThan(50);
    expect((await producer.queue.getJob('early'))!.attemptsMade).toBe(1);
  });

  it('a cancel is used up by the attempt it cancels: job.retry() and a job re-added with the same id run normally', async () => {
    const connector = recordingConnector();
    const w = startWorker(connector);
    await w.ready;
    const { job } = await producer.enqueue('sync', {}, { jobId: 'nightly-sync', delay: 1000 });
    await producer.cancel('nightly-sync', 'skip tonight');
    await settled('nightly-sync', 'failed');
    expect(connector.runs).toEqual([]);
    // The stored mark went with the attempt it ended.
    await waitFor(async () => (await redis.zcard(cancelMarksKey({ prefix, queue }))) === 0, { what: 'the cancel mark to be deleted' });
    expect(await redis.hlen(cancelReasonsKey({ prefix, queue }))).toBe(0);

    await job.retry('failed');
    await settled('nightly-sync');
    await (await producer.queue.getJob('nightly-sync'))!.remove();
    await producer.enqueue('sync', {}, { jobId: 'nightly-sync' });
    await settled('nightly-sync');
    expect(connector.runs.map((r) => r.id)).toEqual(['nightly-sync', 'nightly-sync']);

    // A worker started later does not load the used-up mark either.
    await w.close();
    const later = startWorker(connector);
    await later.ready;
    await (await producer.queue.getJob('nightly-sync'))!.remove();
    await producer.enqueue('sync', {}, { jobId: 'nightly-sync' });
    await settled('nightly-sync');
    await logger.flush(5000);
    const steps = lifecycle(await streamEvents(redis, prefix), 'nightly-sync');
    expect(steps.filter((s) => s.startsWith('job.cancelled'))).toEqual(['job.cancelled@1']);
    expect(steps.filter((s) => s.startsWith('job.completed'))).toHaveLength(3);
  });

  it('a job re-added under the id of one that completed, and one retried with its attempts reset, read as their new runs in the status store', async () => {
    const connector = recordingConnector();
    const w = startWorker(connector);
    await w.ready;
    const sink = createStatusSink({ redis, prefix, pruneIntervalMs: 0 });
    cleanups.push(() => sink.close());
    const reader = createStatusReader({ redis, prefix });
    let applied = 0;
    /** Feeds the events written since the last call to the status store; returns the job's record. */
    const storeSays = async (id: string) => {
      await logger.flush(5000);
      const events = await streamEvents(redis, prefix);
      expect(await sink.write(events.slice(applied), new AbortController().signal)).toMatchObject({ status: 'ok' });
      applied = events.length;
      return reader.getJob(id);
    };

    await producer.enqueue('sync', {}, { jobId: 'nightly-sync' });
    await settled('nightly-sync');
    expect(await storeSays('nightly-sync')).toMatchObject({ state: 'completed', attempt: 1 });

    // Re-added under the same id: BullMQ counts its attempts from 1 again. It runs, then fails.
    await (await producer.queue.getJob('nightly-sync'))!.remove();
    await producer.enqueue('sync', { latencyMs: 400, failUntil: 1 }, { jobId: 'nightly-sync' });
    await waitFor(() => w.activeJobs().includes('nightly-sync'), { what: 'the re-added job to run' });
    expect(await storeSays('nightly-sync')).toMatchObject({ state: 'running', attempt: 1, workerId: 'worker-1' });
    await settled('nightly-sync', 'failed');
    const failed = await storeSays('nightly-sync');
    expect(failed).toMatchObject({ state: 'failed', attempt: 1, willRetry: false, lastError: { message: 'upstream unavailable' } });

    // Retried with its attempts reset: attempt 1 once more, completed this time.
    const job = (await producer.queue.getJob('nightly-sync'))!;
    await job.updateData({ latencyMs: 5 });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    await settled('nightly-sync');
    const done = await storeSays('nightly-sync');
    expect(done).toMatchObject({ state: 'completed', attempt: 1 });
    expect(done!.receivedAt).toBeGreaterThan(failed!.finishedAt!);
    expect(done!.lastEventType).toBe('job.completed');
    const steps = lifecycle(await streamEvents(redis, prefix), 'nightly-sync');
    expect(steps.filter((x) => x.startsWith('job.received'))).toEqual(['job.received@1', 'job.received@1', 'job.received@1']);
    expect(await reader.countByState()).toMatchObject({ completed: 1, failed: 0, running: 0 });
  });

  it('a cancel of a running job is used up too: the job re-added with the same id runs', async () => {
    const connector = recordingConnector();
    const w = startWorker(connector);
    await w.ready;
    await producer.enqueue('sync', { latencyMs: 60_000 }, { jobId: 'running' });
    await waitFor(() => w.activeJobs().includes('running'), { what: 'the job to run' });
    expect(await producer.cancel('running', 'stop it')).toBe(1);
    await settled('running', 'failed');
    await waitFor(async () => (await redis.zcard(cancelMarksKey({ prefix, queue }))) === 0, { what: 'the cancel mark to be deleted' });
    await (await producer.queue.getJob('running'))!.remove();
    await producer.enqueue('sync', {}, { jobId: 'running' });
    await settled('running');
  });

  /**
   * A custom backoff strategy that, on the first failure it is asked about, cancels `jobId` and
   * takes 300 ms to answer: the cancel comes while the attempt's failure is being decided.
   */
  function cancellingStrategy(jobId: string, answer: number): BackoffStrategy {
    let cancelSent = false;
    return async () => {
      if (!cancelSent) {
        cancelSent = true;
        await producer.cancel(jobId, 'cancelled while failing');
        await new Promise((r) => setTimeout(r, 300));
      }
      return answer;
    };
  }

  it('a cancel heard while an attempt is already failing stays for the next attempt, which it ends', async () => {
    const backoffStrategy = cancellingStrategy('late-cancel', 10);
    const connector = recordingConnector();
    const w = startWorker(connector, { workerOptions: { settings: { backoffStrategy } } });
    await w.ready;
    await producer.enqueue('chat', { failUntil: 1 }, { jobId: 'late-cancel', attempts: 3, backoff: { type: 'slow' } });
    await settled('late-cancel', 'failed');
    await logger.flush(5000);
    expect(connector.runs.map((r) => r.attempt)).toEqual([1]);
    expect(lifecycle(await streamEvents(redis, prefix), 'late-cancel')).toEqual([
      'job.received@1',
      'job.started@1',
      'job.failed@1',
      'job.retrying@1',
      'job.received@2',
      'job.started@2',
      'job.cancelled@2',
    ]);
    await waitFor(async () => (await redis.zcard(cancelMarksKey({ prefix, queue }))) === 0, { what: 'the cancel mark to be used up' });
  });

  it("a cancel heard while the job's last attempt is failing is used up with it: the id re-added runs", async () => {
    const backoffStrategy = cancellingStrategy('last-try', -1);
    const connector = recordingConnector();
    const w = startWorker(connector, { workerOptions: { settings: { backoffStrategy } } });
    await w.ready;
    await producer.enqueue('chat', { failUntil: 1 }, { jobId: 'last-try', attempts: 3, backoff: { type: 'slow' } });
    await settled('last-try', 'failed');
    await waitFor(async () => (await redis.zcard(cancelMarksKey({ prefix, queue }))) === 0, { what: 'the cancel mark to be used up' });
    await (await producer.queue.getJob('last-try'))!.remove();
    await producer.enqueue('chat', {}, { jobId: 'last-try' });
    await settled('last-try');
    expect(connector.runs.map((r) => r.id)).toEqual(['last-try', 'last-try']);
  });

  it('a job the connector completed, whose result BullMQ then cannot store, is not reported as failed without running', async () => {
    const connector: Connector = { serviceType: 'simulated', name: 'bigint', run: () => Promise.resolve({ output: { n: 1n } }) };
    const w = startWorker(connector);
    await w.ready;
    await producer.enqueue('x', {}, { jobId: 'unstorable' });
    await settled('unstorable', 'failed');
    await logger.flush(5000);
    expect(lifecycle(await streamEvents(redis, prefix), 'unstorable')).toEqual(['job.received@1', 'job.started@1', 'job.completed@1']);
  });

  it("stores a ConnectorResult's output as the job's return value, and anything else a connector returns as it is", async () => {
    const answers: Record<string, unknown> = { wrapped: { output: 'o', outputCount: 1 }, plain: { url: 'https://x/img.png' }, text: 'hello', number: 42, none: undefined, list: [1, 2] };
    const connector: Connector = { serviceType: 'simulated', name: 'answers', run: (job) => Promise.resolve(answers[job.id] as never) };
    const w = startWorker(connector);
    await w.ready;
    for (const id of Object.keys(answers)) await producer.enqueue('x', {}, { jobId: id });
    for (const id of Object.keys(answers)) await settled(id);
    const stored = Object.fromEntries(await Promise.all(Object.keys(answers).map(async (id) => [id, (await producer.queue.getJob(id))!.returnvalue] as const)));
    expect(stored).toEqual({ wrapped: 'o', plain: { url: 'https://x/img.png' }, text: 'hello', number: 42, none: null, list: [1, 2] });
    await logger.flush(5000);
    const completed = ofType(await streamEvents(redis, prefix), 'wrapped', 'job.completed');
    expect(completed.map((e) => e.data.outputCount)).toEqual([1]);
  });

  it('a Redis user without Pub/Sub access: the worker says cancel requests are not heard, and runs jobs', async () => {
    // Redis 7 gives a new ACL user no channels unless told (acl-pubsub-default resetchannels): SUBSCRIBE is refused.
    const user = `${prefix}-nopubsub`;
    await redis.call('ACL', 'SETUSER', user, 'on', '>pw', '~*', '+@all', 'resetchannels');
    cleanups.push(() => redis.call('ACL', 'DELUSER', user));
    const url = new URL(TEST_REDIS_URL);
    url.username = user;
    url.password = 'pw';
    const errors: string[] = [];
    const w = startWorker(recordingConnector(), { connection: url.toString(), onError: (err) => errors.push((err as Error).message) });
    await w.ready;
    expect(errors.find((m) => m.startsWith('cancel requests are not heard by this worker'))).toMatch(/NOPERM.*allow the channels \{.*\}:cancel:lifecycle and/);
    await producer.enqueue('x', {}, { jobId: 'runs-anyway' });
    await settled('runs-anyway');
  });

  it("a job the connector rate-limits (BullMQ's worker.rateLimit + RateLimitError) is not reported as failed: it runs again and completes", async () => {
    let runs = 0;
    const connector: Connector = {
      serviceType: 'simulated',
      name: 'limited',
      async run() {
        // The service answered "slow down" on the first run: BullMQ's manual rate limit.
        if (++runs === 1) {
          await w.worker.rateLimit(200);
          throw Worker.RateLimitError();
        }
        return { outputCount: 1 };
      },
    };
    const w = startWorker(connector);
    await w.ready;
    await producer.enqueue('x', {}, { jobId: 'limited', attempts: 3 });
    await settled('limited');
    expect(runs).toBe(2);
    await logger.flush(5000);
    const events = await streamEvents(redis, prefix);
    // The run after the rate limit is an attempt of its own (BullMQ counted its start).
    expect(lifecycle(events, 'limited')).toEqual(['job.received@1', 'job.started@1', 'job.received@2', 'job.started@2', 'job.completed@2']);
    const note = events.find((e) => e.type === 'log' && e.job?.id === 'limited');
    expect(note).toMatchObject({ level: 'info', message: 'job rate-limited: back to the queue, to run again', attrs: { kind: 'rate_limited' } });
  });

  it('keeps sending heartbeats with the running jobs while it drains at shutdown, and none after worker.stopped', async () => {
    const w = startWorker(recordingConnector(), { shutdownTimeoutMs: 5000 });
    await w.ready;
    await producer.enqueue('slow', { latencyMs: 900 }, { jobId: 'slow' });
    await waitFor(() => w.activeJobs().includes('slow'), { what: 'the job to run' });
    const closeAt = Date.now();
    await w.close('SIGTERM');
    await logger.flush(5000);
    const events = await streamEvents(redis, prefix);
    const stopped = events.find((e) => e.type === 'worker.stopped')!;
    expect(stopped.data).toMatchObject({ reason: 'SIGTERM' });
    const completedAt = ofType(events, 'slow', 'job.completed')[0]!.time;
    const beats = events.filter((e) => e.type === 'worker.heartbeat');
    // During the drain (between close() and the job's end): beats that still list the job.
    const draining = beats.filter((e) => e.time > closeAt + 50 && e.time < completedAt);
    expect(draining.length).toBeGreaterThanOrEqual(3);
    for (const b of draining) expect(b.data).toMatchObject({ currentJobs: ['slow'] });
    expect(beats.every((e) => e.time <= stopped.time && e.seq < stopped.seq)).toBe(true);
  });

  it('reports job.failed for a job BullMQ fails without running it after it stalled more than maxStalledCount', async () => {
    // A worker that takes the job and stops renewing its lock, as a hung or crashed process does.
    let release = (): void => undefined;
    const doomedRedis = bullClient(TEST_REDIS_URL);
    const doomed = new Worker(queue, () => new Promise<void>((r) => (release = r)), {
      connection: asBullConnection(doomedRedis),
      prefix: `${prefix}-bull`,
      lockDuration: 400,
      skipLockRenewal: true,
      // Its own stalled check would hold off the others' (BullMQ throttles the check queue-wide).
      skipStalledCheck: true,
    });
    cleanups.push(async () => {
      await doomed.close(true);
      release();
      await doomed.disconnect();
      doomedRedis.disconnect();
    });
    doomed.on('error', () => undefined);
    await producer.enqueue('render', {}, { jobId: 'hung', attempts: 3 });
    await waitFor(async () => (await stateOf('hung')) === 'active', { what: 'the doomed worker to take the job' });

    const connector = recordingConnector();
    startWorker(connector, { workerOptions: { stalledInterval: 300, maxStalledCount: 0 } });
    await settled('hung', 'failed');
    const job = (await producer.queue.getJob('hung'))!;
    expect(job.failedReason).toBe('job stalled more than allowable limit');
    expect(connector.runs).toEqual([]);
    await waitFor(async () => (await streamEvents(redis, prefix)).some((e) => e.type === 'job.failed'), { what: 'job.failed' });
    await logger.flush(5000);
    const events = await streamEvents(redis, prefix);
    // The doomed worker reported nothing; the job's record ends failed, for good.
    expect(lifecycle(events, 'hung')).toEqual(['job.failed@1']);
    expect(ofType(events, 'hung', 'job.failed')[0]).toMatchObject({
      job: { id: 'hung', attempt: 1, queue, name: 'render' },
      data: { willRetry: false, error: { type: 'StalledError', category: 'timeout', message: 'job stalled more than allowable limit' } },
    });
    await waitFor(async () => (await streamEvents(redis, prefix)).some((e) => e.type === 'log' && e.attrs?.kind === 'stalled'), { what: 'the stalled report' });
    const stalled = (await streamEvents(redis, prefix)).find((e) => e.type === 'log' && e.attrs?.kind === 'stalled')!;
    expect(stalled).toMatchObject({ level: 'warn', job: { id: 'hung', attempt: 1 }, attrs: { final: true } });
  });

  it('a custom backoff strategy that returns -1 stops retries: no job.retrying, willRetry false, the strategy asked once', async () => {
    const calls: [string, number][] = [];
    const backoffStrategy: BackoffStrategy = (attemptsMade, _type, _err, job) => {
      calls.push([job!.id!, attemptsMade]);
      return (job!.data as { stop?: boolean }).stop ? -1 : 40;
    };
    const connector = recordingConnector();
    const w = startWorker(connector, { workerOptions: { settings: { backoffStrategy } } });
    await w.ready;
    const backoff = { type: 'until-quota' };
    await producer.enqueue('chat', { failUntil: 9, stop: true }, { jobId: 'stop', attempts: 3, backoff });
    await producer.enqueue('chat', { failUntil: 1 }, { jobId: 'again', attempts: 3, backoff });
    await settled('stop', 'failed');
    await settled('again');
    await logger.flush(5000);
    const events = await streamEvents(redis, prefix);

    expect((await producer.queue.getJob('stop'))!.attemptsMade).toBe(1);
    expect(lifecycle(events, 'stop')).toEqual(['job.received@1', 'job.started@1', 'job.failed@1']);
    expect(ofType(events, 'stop', 'job.failed')[0]!.data.willRetry).toBe(false);
    expect(lifecycle(events, 'again')).toEqual(['job.received@1', 'job.started@1', 'job.failed@1', 'job.retrying@1', 'job.received@2', 'job.started@2', 'job.completed@2']);
    expect(ofType(events, 'again', 'job.failed')[0]!.data.willRetry).toBe(true);
    expect(ofType(events, 'again', 'job.retrying')[0]!.data).toMatchObject({ nextAttempt: 2, delayMs: 40 });
    // Once per failure: what the runtime reported is the answer BullMQ acted on.
    expect(calls.sort()).toEqual([
      ['again', 1],
      ['stop', 1],
    ]);
  });

  it("the retry-after backoff waits as long as the service asked (Retry-After), and says so in job.retrying", async () => {
    const connector: Connector = {
      serviceType: 'simulated',
      name: 'rate-limited',
      run: (job) =>
        job.attempt === 1
          ? Promise.reject(new ConnectorError('429 rate limited', { category: 'rate_limit', code: '429', retryAfterMs: 600 }))
          : Promise.resolve({ outputCount: 1 }),
    };
    const w = startWorker(connector);
    await w.ready;
    await producer.enqueue('chat', {}, { jobId: 'limited', attempts: 2, backoff: { type: 'retry-after', delay: 10 } });
    await settled('limited');
    await logger.flush(5000);
    const events = await streamEvents(redis, prefix);
    expect(lifecycle(events, 'limited')).toEqual(['job.received@1', 'job.started@1', 'job.failed@1', 'job.retrying@1', 'job.received@2', 'job.started@2', 'job.completed@2']);
    expect(ofType(events, 'limited', 'job.retrying')[0]!.data).toMatchObject({ nextAttempt: 2, delayMs: 600 });
    const failedAt = ofType(events, 'limited', 'job.failed')[0]!.time;
    expect(ofType(events, 'limited', 'job.received').find((e) => e.job!.attempt === 2)!.time - failedAt).toBeGreaterThanOrEqual(550);
  });

  it('a delayed job: the trace queue-wait starts when the job was due, not when it was enqueued an hour before', async () => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const w = startWorker(recordingConnector());
    await w.ready;
    // Enqueued an hour ago, delayed by an hour (and 200 ms): due 200 ms from now.
    const hour = 3_600_000;
    const enqueuedAt = Date.now() - hour;
    await producer.enqueue('report', { latencyMs: 20 }, { jobId: 'report-1', timestamp: enqueuedAt, delay: hour + 200 });
    await settled('report-1');
    await w.close();
    await logger.flush(5000);
    const events = (await streamEvents(redis, prefix)).filter((e) => e.job?.id === 'report-1');
    const received = ofType(events, 'report-1', 'job.received')[0]!;
    expect(received.data.enqueuedAt).toBe(enqueuedAt);
    expect(received.data.queueWaitMs).toBeLessThan(2000);

    const sink = createOtelSink({ redis, prefix, tracesUrl: receiver.tracesUrl, timeoutMs: 2000 });
    cleanups.push(() => sink.close());
    expect(await sink.write(events, new AbortController().signal)).toEqual({ status: 'ok' });
    const root = receiver.spans.find((s) => s.name === `process ${queue}`)!;
    const wait = receiver.spans.find((s) => s.name === 'queue-wait')!;
    expect(root.attributes['jobscope.job.queue_wait_ms']).toBeLessThan(2000);
    expect(wait.endMs - wait.startMs).toBeLessThan(2000);
    expect(wait.startMs).toBeGreaterThanOrEqual(enqueuedAt + hour);
  });
});
