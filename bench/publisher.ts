/**
 * Publisher throughput into Redis, end to end (every event published and confirmed), beside
 * its anchor measured in the same run: `redis-benchmark -P 16` doing XADD of one whole event
 * per entry, of the same size. Prints events/s and the ratio, writes bench/results/publisher.json (common shape,
 * bench/lib/result.ts), and deletes its keys.
 *
 *   node --import tsx bench/publisher.ts [--quick] [--rounds 5]   (EVENTS overrides the size)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { eventStreamKey } from '../src/events/index.js';
import { attemptMembers, ownMembers, sharedMembers } from '../src/logger/event-encoder.js';
import { wholeJson, type PendingEntry } from '../src/logger/event-buffer.js';
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

/**
 * Realistic events: job.completed with identity, job, trace and usage, built as the logger
 * builds them (own members per call; the job attempt's and the producer's members shared).
 * Ten events per job attempt, as a job with progress reports sends.
 */
function makeEvents(n: number, producer: string, stream: string): PendingEntry[] {
  const shared = sharedMembers(
    { machineId: 'railway-comfyui-01', workerId: 'worker-001', serviceType: 'comfyui', connectorId: 'comfyui-local', instance: 'host:1234' },
    producer,
  );
  const out: PendingEntry[] = [];
  const t = Date.now();
  let attempt = '';
  for (let i = 0; i < n; i++) {
    if (i % 10 === 0) {
      attempt = attemptMembers({ id: `job-${i}`, attempt: 1, queue: 'images' }, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' });
    }
    const json = ownMembers(
      `019a1b2c-3d4e-7f60-8a1b-${i.toString(16).padStart(12, '0')}`,
      t,
      'info',
      'job.completed',
      i,
      undefined,
      { model: 'sdxl-base-1.0', provider: 'comfyui', gpuSeconds: 3.2 },
      undefined,
      { durationMs: 1234, outputCount: 2, outputSize: 1048576 },
    );
    out.push({ stream, json, shared, attempt, bytes: json.length + shared.length + attempt.length, producer, seq: i });
  }
  return out;
}

async function ours(round: number): Promise<number> {
  const producer = `bench-${round}-${randomBytes(4).toString('hex')}`;
  const stream = eventStreamKey({ prefix });
  const events = makeEvents(N, producer, stream);
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
  for (let i = 0; i < N; i++) publisher.publish(events[i]!);
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
  // The anchor writes each event whole, one per XADD.
  const payloadBytes = Buffer.byteLength(wholeJson(makeEvents(1, 'bench-size', 'size')[0]!));
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
