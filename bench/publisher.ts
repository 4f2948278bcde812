/**
 * Publisher throughput into Redis, end to end (every event published and confirmed), beside
 * its anchor measured in the same run: `redis-benchmark -P 16` doing XADD with the same payload
 * size. Prints events/s and the ratio, writes bench/results/publisher.json (common shape,
 * bench/lib/result.ts), and deletes its keys.
 *
 *   node --import tsx bench/publisher.ts [--quick] [--rounds 5]   (EVENTS overrides the size)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { eventStreamKey } from '../src/events/index.js';
import { createEventEncoder } from '../src/logger/event-encoder.js';
import { createPublisher } from '../src/logger/publisher.js';
import { createPublisherClient } from '../src/logger/redis-client.js';
import { runOptions, sized } from './lib/args.js';
import { makeFigure, writeResult } from './lib/result.js';
import { deleteKeys } from './lib/redis-keys.js';

const HOST = process.env.REDIS_HOST ?? '127.0.0.1';
const PORT = Number(process.env.REDIS_PORT ?? 6379);
const opts = runOptions();
const N = Number(process.env.EVENTS ?? sized(opts, 50_000, 15_000));
const ROUNDS = opts.rounds;
const prefix = `jsbench-${randomBytes(4).toString('hex')}`;
const url = `redis://${HOST}:${PORT}`;

/** Realistic events: a job.completed with identity, job, trace and usage. */
function makeEvents(n: number, producer: string): string[] {
  const enc = createEventEncoder({
    source: { machineId: 'railway-comfyui-01', workerId: 'worker-001', serviceType: 'comfyui', connectorId: 'comfyui-local', instance: 'host:1234' },
    producer,
    job: { id: 'job-123456', attempt: 1, queue: 'images' },
    trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' },
  });
  const out: string[] = [];
  const t = Date.now();
  for (let i = 0; i < n; i++) {
    out.push(
      enc.encode({
        id: `019a1b2c-3d4e-7f60-8a1b-${i.toString(16).padStart(12, '0')}`,
        time: t,
        level: 'info',
        type: 'job.completed',
        seq: i,
        ai: { model: 'sdxl-base-1.0', provider: 'comfyui', gpuSeconds: 3.2 },
        data: { durationMs: 1234, outputCount: 2, outputSize: 1048576 },
      }),
    );
  }
  return out;
}

async function ours(round: number): Promise<number> {
  const producer = `bench-${round}-${randomBytes(4).toString('hex')}`;
  const events = makeEvents(N, producer);
  const stream = eventStreamKey({ prefix });
  const redis = createPublisherClient({ url, onError: () => {} });
  await new Promise<void>((r) => redis.once('ready', () => r()));
  const publisher = createPublisher({
    redis,
    ownsClient: true,
    maxBufferEvents: N + 1,
    maxBufferBytes: 2 ** 31,
    onWarn: (m) => console.error(m),
  });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) publisher.publish(stream, events[i]!, producer, i);
  const ok = await publisher.flush(120_000);
  const ms = performance.now() - t0;
  const s = publisher.stats();
  await publisher.close(1000);
  if (!ok || s.published !== N) throw new Error(`only ${s.published}/${N} published`);
  return (N / ms) * 1000;
}

function anchor(payloadBytes: number): number {
  const payload = `${'x'.repeat(payloadBytes - 16)}__rand_int__`.slice(0, payloadBytes);
  const out = execFileSync(
    'redis-benchmark',
    ['-h', HOST, '-p', String(PORT), '-P', '16', '-n', String(N), '-r', '100000', '-q', 'XADD', `{${prefix}}:anchor`, '*', 'v', '1', 'e', payload],
    { encoding: 'utf8' },
  );
  const m = /([\d.]+) requests per second/.exec(out);
  if (!m) throw new Error(`cannot read redis-benchmark output: ${out}`);
  return Number(m[1]);
}

async function cleanup(): Promise<void> {
  await deleteKeys(url, [`{${prefix}}*`]);
}

async function main(): Promise<void> {
  const payloadBytes = Buffer.byteLength(makeEvents(1, 'bench-size')[0]!);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const x = anchor(payloadBytes);
    await cleanup();
    const y = await ours(i);
    await cleanup();
    a.push(x);
    b.push(y);
  }
  console.log(`payload ${payloadBytes} bytes, ${N} events per run, ${ROUNDS} rounds`);
  writeResult({
    name: 'publisher',
    title: 'Publisher throughput vs redis-benchmark XADD',
    quick: opts.quick,
    rounds: ROUNDS,
    settings: { events: N, payloadBytes },
    figures: [
      makeFigure({
        id: '2',
        label: 'publisher, every event confirmed',
        unit: 'events/s',
        ours: b,
        anchor: a,
        anchorWhat: 'redis-benchmark -P 16 XADD, same payload size',
        target: { op: '>=', value: 0.25, aim: 0.5 },
      }),
    ],
  });
}

try {
  await main();
} finally {
  await cleanup();
}
