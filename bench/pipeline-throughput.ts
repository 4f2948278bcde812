/**
 * Throughput of the pipeline: events/s from a pre-filled stream until every event is
 * acknowledged by every sink's group, for three sink sets — (a) `null`, (b) `status,metrics`,
 * (c) every sink (status, metrics, fluentd, otel, sentry) against local protocol peers run in
 * a child process (bench/lib/peers-child.ts) — beside two anchors measured in the same round:
 * `redis-benchmark -P 16` XADD of the same payload size (the raw write rate of this Redis),
 * and BullMQ processing no-op jobs (addBulk + a Worker at concurrency 50).
 *
 *   node --import tsx bench/pipeline-throughput.ts [--quick] [--rounds 5] [--events 10000] [--sets null:null,sm:status+metrics] [--batch 200]
 *
 * `--sets` takes `id:sink+sink` pairs with names from the sink registry. The events are job
 * lifecycles of 8 events (received, started, 4 × progress, a heartbeat, completed; one job in 50
 * fails), see bench/lib/lifecycle-events.ts. Writes bench/results/pipeline-throughput.json.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { encodeEntry, eventStreamKey } from '../src/events/index.js';
import { createPipeline, createSinksFromConfig, registerBuiltinSinks } from '../src/pipeline/index.js';
import { runOptions, sized } from './lib/args.js';
import { startChild, type BenchChild } from './lib/child.js';
import { LIFECYCLE_EVENTS, lifecycleEvent } from './lib/lifecycle-events.js';
import { makeFigure, writeResult, type Figure } from './lib/result.js';
import { unlinkMatching } from '../test/helpers/redis.js';

const opts = runOptions();
const { values } = parseArgs({
  options: {
    events: { type: 'string' },
    sets: { type: 'string', default: '3a:null,3b:status+metrics,3c:status+metrics+fluentd+otel+sentry' },
    batch: { type: 'string', default: '200' },
    quick: { type: 'boolean' },
    rounds: { type: 'string' },
  },
});
const N = Number(values.events ?? sized(opts, 10_000, 3_000));
// Long enough (~0.5 s at this Redis's ~400k/s) that connection setup does not dominate the anchor.
const XADD_N = sized(opts, 200_000, 100_000);
const BULL_N = sized(opts, 5_000, 2_000);
const SETS = values.sets.split(',').map((pair) => {
  const [id, sinks] = pair.split(':');
  return { id: id!, sinks: sinks!.split('+').filter(Boolean) };
});
const BATCH = Number(values.batch);
const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const logger = pino({ level: 'warn' });

async function prefill(redis: Redis, stream: string): Promise<number> {
  let bytes = 0;
  for (let start = 0; start < N; start += 1000) {
    const pipe = redis.pipeline();
    for (let i = start; i < Math.min(N, start + 1000); i++) {
      const fields = encodeEntry(lifecycleEvent(i));
      bytes += Buffer.byteLength(fields[3]!);
      pipe.xadd(stream, '*', ...fields);
    }
    await pipe.exec();
  }
  return Math.round(bytes / N);
}

async function benchPipeline(redis: Redis, sinkNames: string[], env: NodeJS.ProcessEnv): Promise<{ eventsPerSec: number; payloadBytes: number }> {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  const stream = eventStreamKey({ prefix });
  const payloadBytes = await prefill(redis, stream);
  registerBuiltinSinks();
  const registry = new Registry();
  const sinks = await createSinksFromConfig(sinkNames, { env, redis, prefix, metricsRegistry: registry, logger });
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
  await deletePrefix(redis, prefix);
  return { eventsPerSec: N / seconds, payloadBytes };
}

async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  await unlinkMatching(redis, [`{${prefix}}*`]);
}

function benchRedisXadd(payloadBytes: number): number {
  const key = `bench-xadd-${randomBytes(4).toString('hex')}`;
  const { hostname, port } = new globalThis.URL(URL);
  const payload = 'x'.repeat(payloadBytes);
  const out = execFileSync('redis-benchmark', ['-h', hostname, '-p', port || '6379', '-P', '16', '-n', String(XADD_N), '-q', 'XADD', key, '*', 'v', '1', 'e', payload], { encoding: 'utf8' });
  execFileSync('redis-cli', ['-h', hostname, '-p', port || '6379', 'DEL', key]);
  const m = /([\d.]+) requests per second/.exec(out);
  if (!m) throw new Error(`could not read redis-benchmark output: ${out}`);
  return Number(m[1]);
}

async function benchBullmq(): Promise<number> {
  const prefix = `bench-bull-${randomBytes(4).toString('hex')}`;
  const connection = { url: URL };
  const queue = new Queue('noop', { connection, prefix });
  for (let start = 0; start < BULL_N; start += 1000) {
    const jobs = Array.from({ length: Math.min(1000, BULL_N - start) }, (_, i) => ({ name: 'noop', data: { i: start + i }, opts: { removeOnComplete: true } }));
    await queue.addBulk(jobs);
  }
  let completed = 0;
  const started = process.hrtime.bigint();
  const allDone = new Promise<void>((resolve) => {
    const worker = new Worker('noop', async () => undefined, { connection, prefix, concurrency: 50 });
    worker.on('completed', () => {
      if (++completed === BULL_N) void worker.close().then(resolve);
    });
  });
  await allDone;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await queue.obliterate({ force: true });
  await queue.close();
  return BULL_N / seconds;
}

/** Env for the sinks: the peers' addresses for fluentd, otel and sentry. */
function sinkEnv(ready: Record<string, unknown>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    FLUENTD_HOST: '127.0.0.1',
    FLUENTD_PORT: String(ready.fluentPort),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: String(ready.tracesUrl),
    SENTRY_DSN: String(ready.dsn),
  };
}

async function main(): Promise<void> {
  const redis = new Redis(URL, { maxRetriesPerRequest: null });
  const needsPeers = SETS.some((s) => s.sinks.some((n) => ['fluentd', 'otel', 'sentry'].includes(n)));
  const peers: BenchChild | undefined = needsPeers ? startChild('lib/peers-child.ts') : undefined;
  try {
    const env = peers ? sinkEnv(await peers.next('ready')) : process.env;
    const ours = new Map<string, number[]>(SETS.map((s) => [s.id, []]));
    const xadd: number[] = [];
    const bull: number[] = [];
    let payloadBytes = 0;
    await benchPipeline(redis, ['null'], env); // warm-up (JIT, connections)
    for (let r = 0; r < opts.rounds; r++) {
      for (const set of SETS) {
        const res = await benchPipeline(redis, set.sinks, env);
        payloadBytes = res.payloadBytes;
        ours.get(set.id)!.push(res.eventsPerSec);
      }
      xadd.push(benchRedisXadd(payloadBytes));
      bull.push(await benchBullmq());
      console.log(`round ${r + 1}/${opts.rounds}: ${SETS.map((s) => `${s.id} ${Math.round(ours.get(s.id)!.at(-1)!)}`).join(', ')} events/s; XADD ${Math.round(xadd.at(-1)!)}/s; BullMQ ${Math.round(bull.at(-1)!)} jobs/s`);
    }
    const received = peers ? await peers.request({ type: 'counts' }, 'counts') : undefined;
    const figures: Figure[] = [];
    for (const set of SETS) {
      const label = `pipeline, sinks ${set.sinks.join('+')}`;
      const target = set.id === '3b' ? { op: '>=' as const, value: 0.1, aim: 0.2 } : undefined;
      figures.push(makeFigure({ id: `${set.id}-xadd`, label, unit: 'events/s', ours: ours.get(set.id)!, anchor: xadd, anchorWhat: 'redis-benchmark -P 16 XADD, same payload', ...(target ? { target } : {}) }));
      figures.push(makeFigure({ id: `${set.id}-bullmq`, label, unit: 'events/s', ours: ours.get(set.id)!, anchor: bull, anchorWhat: 'BullMQ no-op jobs, concurrency 50', anchorUnit: 'jobs/s' }));
    }
    writeResult({
      name: 'pipeline-throughput',
      title: 'Pipeline throughput by sink set',
      quick: opts.quick,
      rounds: opts.rounds,
      settings: { events: N, eventMix: `job lifecycles of ${LIFECYCLE_EVENTS} events, 1 job in 50 failing`, xaddEvents: XADD_N, bullmqJobs: BULL_N, batchSize: BATCH, payloadBytes, sets: SETS },
      details: received ? { peersReceived: received } : {},
      figures,
    });
  } finally {
    await peers?.stop();
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
