import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createSimulatedConnector } from '../../../connectors/simulated.js';
import { createJobWorker, type JobWorker } from '../../../src/jobs/job-worker.js';
import { createJobProducer, type JobProducer } from '../../../src/jobs/producer.js';
import type { ConnectorLogger } from '../../../src/logger/connector-logger.js';
import { createStatusSink } from '../../../src/sinks/status/index.js';
import { createStatusReader } from '../../../src/status/index.js';
import { cleanupPrefix, TEST_REDIS_URL, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';
import { lifecycle, streamEvents, testLogger } from './stream-events.js';

let redis: Redis;
let prefix: string;
let producer: JobProducer;
let logger: ConnectorLogger;
let child: ChildProcess | undefined;
let worker: JobWorker | undefined;
const queue = 'crash';
const lock = { lockDuration: 1000, stalledInterval: 300 };

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('crash');
  producer = createJobProducer({ connection: TEST_REDIS_URL, queue, bullPrefix: `${prefix}-bull`, prefix });
  logger = testLogger(prefix, 'simulated', 'rescuer');
});

afterEach(async () => {
  child?.kill('SIGKILL');
  await worker?.close();
  await producer.close();
  await logger.close();
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

function startChild(): { child: ChildProcess; output: string[] } {
  const output: string[] = [];
  const c = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/worker-child.ts'], {
    env: {
      ...process.env,
      REDIS_URL: TEST_REDIS_URL,
      JOBSCOPE_PREFIX: prefix,
      BULL_PREFIX: `${prefix}-bull`,
      JOBSCOPE_QUEUE: queue,
      WORKER_ID: 'doomed',
      LOCK_DURATION_MS: String(lock.lockDuration),
      STALLED_INTERVAL_MS: String(lock.stalledInterval),
      LATENCY_MS: '60000',
      PROGRESS_STEPS: '120',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  c.stdout!.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean)));
  return { child: c, output };
}

it('a worker killed mid-job: stalled is reported, another worker re-runs the job, the status store shows it completed', async () => {
  const started = startChild();
  child = started.child;
  await waitFor(() => started.output.includes('ready'), { what: 'the child worker to start', timeoutMs: 30_000 });
  await producer.enqueue('render', {}, { jobId: 'render-1', attempts: 2 });
  await waitFor(async () => (await streamEvents(redis, prefix)).some((e) => e.type === 'job.progress' && e.job.id === 'render-1'), {
    what: 'the child to report progress',
  });
  child.kill('SIGKILL');
  await new Promise((r) => child!.once('exit', r));

  // A second worker (fast connector) takes the job once BullMQ's stalled check hands it back.
  worker = createJobWorker({
    connection: TEST_REDIS_URL,
    queue,
    connector: createSimulatedConnector({ seed: 2, latencyMs: { min: 50, max: 50 }, progressSteps: 2 }),
    logger,
    prefix,
    bullPrefix: `${prefix}-bull`,
    heartbeatIntervalMs: 200,
    workerOptions: lock,
  });
  await waitFor(async () => (await (await producer.queue.getJob('render-1'))?.getState()) === 'completed', { what: 'the job to complete on the second worker' });
  await logger.flush(5000);

  const events = await streamEvents(redis, prefix);
  const stalled = events.find((e) => e.type === 'log' && e.job?.id === 'render-1' && e.attrs?.kind === 'stalled');
  expect(stalled).toMatchObject({ level: 'warn', job: { id: 'render-1', attempt: 1, queue }, source: { workerId: 'rescuer' } });
  const steps = lifecycle(events, 'render-1');
  expect(steps.slice(0, 2)).toEqual(['job.received@1', 'job.started@1']);
  // The re-run is an attempt of its own (BullMQ counted a second start), with its own times.
  expect(steps.filter((s) => s.startsWith('job.received'))).toEqual(['job.received@1', 'job.received@2']);
  expect(steps.at(-1)).toBe('job.completed@2');
  const completed = events.find((e) => e.type === 'job.completed')!;
  expect(completed.source.workerId).toBe('rescuer');

  // The status store, fed the same events, shows the job completed on the second worker.
  const sink = createStatusSink({ redis, prefix, pruneIntervalMs: 0 });
  expect(await sink.write(events, new AbortController().signal)).toMatchObject({ status: 'ok' });
  await sink.close();
  const reader = createStatusReader({ redis, prefix });
  const record = await reader.getJob('render-1');
  expect(record).toMatchObject({ state: 'completed', attempt: 2, workerId: 'rescuer' });
  // Neither worker still lists it: not the killed one (whose heartbeats named it until it died), not the rescuer.
  const workers = await reader.listWorkers();
  expect(workers.find((w) => w.workerId === 'doomed')?.currentJobs).toEqual([]);
  expect(workers.find((w) => w.workerId === 'rescuer')?.currentJobs).toEqual([]);
  expect(record!.durationMs).toBeGreaterThan(0);
  // Its times are the re-run's, not the first run's (which began before the kill).
  const rerun = events.find((e) => e.type === 'job.received' && e.job.id === 'render-1' && e.job.attempt === 2)!;
  expect(record!.receivedAt).toBe(rerun.time);
});
