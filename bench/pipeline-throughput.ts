/**
 * Throughput of the pipeline: events/s from a pre-filled stream until every event is
 * acknowledged by every sink's group, beside two anchors measured in the same run:
 * `redis-benchmark -P 16` XADD of the same payload size (the raw write rate of this Redis),
 * and BullMQ processing no-op jobs (addBulk + a Worker at concurrency 50).
 *
 *   node --import tsx bench/pipeline-throughput.ts [--events 50000] [--sinks null] [--batch 200]
 *
 * `--sinks` takes names from the sink registry (src/pipeline/sink-registry.ts): once the
 * integrator registers status and metrics, `--sinks status,metrics` measures them.
 * Writes bench/results/pipeline-throughput.json.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createEventId, encodeEntry, eventStreamKey, type JobscopeEvent } from '../src/events/index.js';
import { createPipeline, createSinksFromConfig, registerBuiltinSinks } from '../src/pipeline/index.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '50000' }, sinks: { type: 'string', default: 'null' }, batch: { type: 'string', default: '200' } } });
const N = Number(values.events);
const SINKS = values.sinks.split(',').map((s) => s.trim()).filter(Boolean);
const BATCH = Number(values.batch);
const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'warn' });

function realisticEvent(i: number): JobscopeEvent {
  return {
    v: 1, id: createEventId(), time: Date.now(), level: 'info', type: 'job.completed',
    message: 'job completed',
    source: { machineId: 'railway-comfyui-01', workerId: 'worker-001', serviceType: 'comfyui', connectorId: 'comfyui-local', instance: 'host:1234' },
    producer: 'bench-producer', seq: i,
    job: { id: `job-${i}`, attempt: 1, queue: 'comfyui-jobs', name: 'txt2img' },
    trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true },
    ai: { model: 'sdxl-base-1.0', provider: 'comfyui', operation: 'image_generation', inputTokens: 77, outputTokens: 0, gpuSeconds: 4.2, costUsd: 0.0031 },
    data: { durationMs: 4211, outputCount: 1, outputSize: 1_482_113 },
  } as JobscopeEvent;
}

async function prefill(redis: Redis, stream: string): Promise<number> {
  let bytes = 0;
  for (let start = 0; start < N; start += 1000) {
    const pipe = redis.pipeline();
    for (let i = start; i < Math.min(N, start + 1000); i++) {
      const fields = encodeEntry(realisticEvent(i));
      bytes += Buffer.byteLength(fields[3]!);
      pipe.xadd(stream, '*', ...fields);
    }
    await pipe.exec();
  }
  return Math.round(bytes / N);
}

async function benchPipeline(redis: Redis): Promise<{ eventsPerSec: number; payloadBytes: number }> {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const stream = eventStreamKey({ prefix });
  const payloadBytes = await prefill(redis, stream);
  registerBuiltinSinks();
  const registry = new Registry();
  const sinks = await createSinksFromConfig(SINKS, { env: process.env, redis, prefix, metricsRegistry: registry, logger });
  const pipeline = createPipeline({ redis, prefix, sinks, metricsRegistry: registry, logger, batchSize: BATCH, blockMs: 100, statsIntervalMs: 60_000 });
  const started = process.hrtime.bigint();
  await pipeline.start();
  for (;;) {
    const done = pipeline.status().sinks.every((s) => s.acked + s.deadLettered >= N);
    if (done) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await pipeline.close();
  await redis.del(stream, `{${prefix}}:dlq`);
  return { eventsPerSec: N / seconds, payloadBytes };
}

function benchRedisXadd(payloadBytes: number): number {
  const key = `bench-xadd-${randomBytes(4).toString('hex')}`;
  const { hostname, port } = new globalThis.URL(URL);
  const payload = 'x'.repeat(payloadBytes);
  const out = execFileSync('redis-benchmark', ['-h', hostname, '-p', port || '6379', '-P', '16', '-n', String(N), '-q', 'XADD', key, '*', 'v', '1', 'e', payload], { encoding: 'utf8' });
  execFileSync('redis-cli', ['-h', hostname, '-p', port || '6379', 'DEL', key]);
  const m = /([\d.]+) requests per second/.exec(out);
  if (!m) throw new Error(`could not read redis-benchmark output: ${out}`);
  return Number(m[1]);
}

async function benchBullmq(): Promise<number> {
  const prefix = `bench-bull-${randomBytes(4).toString('hex')}`;
  const connection = { url: URL };
  const queue = new Queue('noop', { connection, prefix });
  for (let start = 0; start < N; start += 1000) {
    const jobs = Array.from({ length: Math.min(1000, N - start) }, (_, i) => ({ name: 'noop', data: { i: start + i }, opts: { removeOnComplete: true } }));
    await queue.addBulk(jobs);
  }
  let completed = 0;
  const started = process.hrtime.bigint();
  const allDone = new Promise<void>((resolve) => {
    const worker = new Worker('noop', async () => undefined, { connection, prefix, concurrency: 50 });
    worker.on('completed', () => {
      if (++completed === N) void worker.close().then(resolve);
    });
  });
  await allDone;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await queue.obliterate({ force: true });
  await queue.close();
  return N / seconds;
}

async function main(): Promise<void> {
  const redis = new Redis(URL, { maxRetriesPerRequest: null });
  const pipe = await benchPipeline(redis);
  const xadd = benchRedisXadd(pipe.payloadBytes);
  const bull = await benchBullmq();
  redis.disconnect();
  const result = {
    events: N, sinks: SINKS, batchSize: BATCH, payloadBytes: pipe.payloadBytes,
    pipelineEventsPerSec: Math.round(pipe.eventsPerSec),
    redisBenchmarkXaddPerSec: Math.round(xadd),
    bullmqNoopJobsPerSec: Math.round(bull),
    ratioToXadd: Number((pipe.eventsPerSec / xadd).toFixed(3)),
    ratioToBullmq: Number((pipe.eventsPerSec / bull).toFixed(2)),
    measuredAt: new Date().toISOString(),
  };
  console.log(`pipeline (${SINKS.join('+')}): ${result.pipelineEventsPerSec} events/s  (${N} events, ${result.payloadBytes}-byte payload, batch ${BATCH})`);
  console.log(`redis-benchmark -P 16 XADD: ${result.redisBenchmarkXaddPerSec} /s   -> pipeline = ${result.ratioToXadd}x`);
  console.log(`BullMQ no-op jobs (c=50):   ${result.bullmqNoopJobsPerSec} /s   -> pipeline = ${result.ratioToBullmq}x`);
  mkdirSync(new globalThis.URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new globalThis.URL('./results/pipeline-throughput.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
