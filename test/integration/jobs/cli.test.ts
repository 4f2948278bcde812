import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { runDemo } from '../../../src/cli/commands/demo.js';
import { runWorkerProcess } from '../../../src/cli/commands/worker.js';
import { createJobProducer } from '../../../src/jobs/producer.js';
import { cleanupPrefix, TEST_REDIS_URL, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';
import { lifecycle, streamEvents } from './stream-events.js';

let redis: Redis;
let prefix: string;

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('cli');
});
afterEach(async () => {
  // BullMQ keys of the default prefix for this test's queues.
  const keys = await redis.keys(`bull:${prefix}*`);
  if (keys.length > 0) await redis.unlink(...keys);
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

function io(env: Record<string, string>) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  stdout.on('data', (d: Buffer) => out.push(d.toString()));
  stderr.on('data', (d: Buffer) => out.push(d.toString()));
  return { io: { stdout, stderr, env: { REDIS_URL: TEST_REDIS_URL, JOBSCOPE_PREFIX: prefix, JOBSCOPE_LOG_STDOUT: 'false', LOG_LEVEL: 'silent', JOBSCOPE_SPOOL_MAX_BYTES: '0', ...env } }, out };
}

function stopper() {
  let stop: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((r) => (stop = r));
  return { stopped, stop };
}

it('jobscope worker runs jobs with the configured identity and stops cleanly', async () => {
  const queue = `${prefix}-q`;
  const { io: cli, out } = io({ JOBSCOPE_QUEUE: queue, MACHINE_ID: 'cli-machine', WORKER_ID: 'cli-worker', HEARTBEAT_INTERVAL_MS: '200' });
  const { stopped, stop } = stopper();
  const running = runWorkerProcess('simulated', cli, stopped);
  const producer = createJobProducer({ connection: TEST_REDIS_URL, queue, prefix });
  await producer.enqueue('work', { simulate: { latencyMs: 20, steps: 1, model: 'gpt-4o', inputTokens: 10, outputTokens: 10 } }, { jobId: 'cli-1' });
  await waitFor(async () => (await (await producer.queue.getJob('cli-1'))?.getState()) === 'completed', { what: 'the job to complete' });
  await producer.close();
  stop('SIGTERM');
  expect(await running).toBe(0);
  const events = await streamEvents(redis, prefix);
  expect(lifecycle(events, 'cli-1')).toEqual(['job.received@1', 'job.started@1', 'job.progress@1', 'job.completed@1']);
  expect(events.find((e) => e.type === 'job.completed')).toMatchObject({ source: { machineId: 'cli-machine', workerId: 'cli-worker', serviceType: 'simulated' }, ai: { costUsd: expect.any(Number) } });
  expect(events.at(-1)).toMatchObject({ type: 'worker.stopped', data: { reason: 'SIGTERM' } });
  expect(out.join('')).toContain(`queue "${queue}"`);
});

it('jobscope worker serves queues of another BullMQ prefix (BULLMQ_PREFIX), as the app that enqueues them uses', async () => {
  const queue = `${prefix}-q`;
  const bullPrefix = `${prefix}-app`;
  const { io: cli } = io({ JOBSCOPE_QUEUE: queue, BULLMQ_PREFIX: bullPrefix });
  const { stopped, stop } = stopper();
  const running = runWorkerProcess('simulated', cli, stopped);
  const producer = createJobProducer({ connection: TEST_REDIS_URL, queue, prefix, bullPrefix });
  await producer.enqueue('work', { simulate: { latencyMs: 5 } }, { jobId: 'cli-prefixed' });
  await waitFor(async () => (await (await producer.queue.getJob('cli-prefixed'))?.getState()) === 'completed', { what: 'the job of the other prefix to complete' });
  await producer.close();
  stop('SIGTERM');
  expect(await running).toBe(0);
});

it('jobscope worker whose health port is taken says which setting to change, stops its worker and ends with 1', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', resolve));
  const port = (holder.address() as AddressInfo).port;
  try {
    const queue = `${prefix}-q`;
    const { io: cli, out } = io({ JOBSCOPE_QUEUE: queue, PORT: String(port) });
    // Never stopped by a signal: the worker must end on its own.
    const code = await runWorkerProcess('simulated', cli, new Promise<string>(() => undefined));
    expect(code).toBe(1);
    const text = out.join('');
    expect(text).toContain(`the worker's health server cannot listen on 0.0.0.0:${port}`);
    expect(text).toContain('pick another port with PORT (0 turns it off)');
    expect(text).not.toContain('METRICS_PORT');
    // The worker stopped, and says so in the stream.
    const events = await streamEvents(redis, prefix);
    expect(events.at(-1)).toMatchObject({ type: 'worker.stopped', data: { reason: 'health server failed' } });
  } finally {
    holder.close();
  }
});

it('jobscope worker without Redis says what it waits for, and at the stop where the events it could not write are', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const spoolDir = mkdtempSync(join(tmpdir(), 'jobscope-cli-spool-'));
  try {
    const { io: cli, out } = io({
      REDIS_URL: `redis://user:secret@127.0.0.1:${port}`,
      JOBSCOPE_QUEUE: `${prefix}-q`,
      JOBSCOPE_SPOOL_DIR: spoolDir,
      JOBSCOPE_SPOOL_MAX_BYTES: String(1 << 20),
      MACHINE_ID: 'm-1',
      WORKER_ID: 'w-1',
    });
    const { stopped, stop } = stopper();
    const running = runWorkerProcess('simulated', cli, stopped);
    await waitFor(() => out.join('').includes('waiting for Redis'), { what: 'the worker to say it waits for Redis', timeoutMs: 10_000 });
    const text = out.join('');
    expect(text).toContain(`waiting for Redis at redis://user:***@127.0.0.1:${port}`);
    expect(text).toContain('ECONNREFUSED');
    expect(text).toContain('start Redis or fix REDIS_URL');
    expect(text).not.toContain('secret');
    stop('SIGTERM');
    expect(await running).toBe(1);
    // worker.started and worker.stopped at least, kept for a worker started again under the same identity.
    expect(out.join('')).toMatch(new RegExp(`stopped before Redis took every event: [2-9] event\\(s\\) wait in the spool \\(${spoolDir}\\): .*MACHINE_ID=m-1 WORKER_ID=w-1`));
    expect(readdirSync(spoolDir).some((f) => f.startsWith('m-1_w-1_') && f.endsWith('.spool'))).toBe(true);
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
});

it('jobscope demo enqueues a mix over both services and its workers report usage and cost', async () => {
  const { io: cli, out } = io({ DEMO_RATE_PER_SEC: '20', HEARTBEAT_INTERVAL_MS: '500' });
  const { stopped, stop } = stopper();
  const running = runDemo({ workers: 1, seed: 3, bullPrefix: `${prefix}-bull` }, cli, stopped);
  const done = await waitFor(
    async () => {
      const events = await streamEvents(redis, prefix);
      const completed = events.filter((e) => e.type === 'job.completed');
      const services = new Set(completed.map((e) => e.source.serviceType));
      return services.has('openai') && services.has('comfyui') ? completed : undefined;
    },
    { what: 'completed jobs of both demo services', timeoutMs: 30_000, intervalMs: 250 },
  );
  stop('SIGTERM');
  expect(await running).toBe(0);
  expect(done.every((e) => e.ai?.costUsd !== undefined && e.ai.costUsd > 0)).toBe(true);
  expect(done.find((e) => e.source.serviceType === 'comfyui')!.ai!.gpuSeconds).toBeGreaterThan(0);
  expect(out.join('')).toMatch(/enqueued \d+ job\(s\) in total/);
});

it('jobscope demo without workers of its own says which queues its jobs wait in and how to serve them', async () => {
  // A job worker's settings, bad ones included, are not the demo's business.
  const { io: cli, out } = io({ DEMO_RATE_PER_SEC: '5', JOBSCOPE_QUEUE: 'a b', WORKER_CONCURRENCY: 'abc', OPENAI_BASE_URL: 'nope' });
  const { stopped, stop } = stopper();
  const running = runDemo({ workers: 0, seed: 1, bullPrefix: `${prefix}-bull` }, cli, stopped);
  await waitFor(() => out.join('').includes('no workers here'), { what: 'the hint' });
  stop('SIGTERM');
  expect(await running).toBe(0);
  expect(out.join('')).toContain(
    `the jobs go to the queues demo-images and demo-chat (BullMQ prefix ${prefix}-bull): serve them with \`jobscope worker --connector simulated --queue demo-images\` and \`jobscope worker --connector simulated --queue demo-chat\``,
  );
});
