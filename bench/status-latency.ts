/**
 * The status sink's cost, on a redis-server of its own (a free port, no persistence), per round:
 *
 * 1. Throughput of the sink alone: events/s it applies in batches of 200 (one `write` at a
 *    time), for a realistic mix — 20 workers, each running jobs of received, started,
 *    5 × progress, completed (400 ms of event time apart), plus a heartbeat every 20 events per
 *    worker — beside the anchor `redis-benchmark -P 16` XADD of the same payload size. Also
 *    Redis's own CPU time and the Redis calls per event (INFO cpu, INFO commandstats).
 * 2. Latency from the XADD of an event (as the publisher does it) until the status store shows
 *    the change (its feed entry, seen with XREAD BLOCK), through a minimal consumer
 *    (XREADGROUP → sink write → XACK) at a fixed rate, beside the anchor: a bare
 *    XADD → XREADGROUP echo at the same rate.
 *
 * Targets (issue 3): sink throughput ≥ 0.1× the pipelined XADD rate (aim 0.2×); p99 ≤ 50 ms at
 * 2,000 events/s. Writes bench/results/status-latency.json.
 *
 *   node --import tsx bench/status-latency.ts [--quick] [--rounds 5] [rate=2000] [seconds=5]
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createEventId, decodeEntryEvents, encodeEntry, type JobscopeEvent } from '../src/events/index.js';
import { createStatusSink } from '../src/sinks/status/index.js';
import { statusKeys } from '../src/status/index.js';
import { RedisProcess } from '../test/helpers/redis-process.js';
import { positionals, runOptions, sized } from './lib/args.js';
import { makeFigure, writeResult } from './lib/result.js';
import { latencySummary, median, type LatencySummary } from './lib/stats.js';

const opts = runOptions();
const args = positionals();
const RATE = Number(args[0] ?? 2000);
const SECONDS = Number(args[1] ?? sized(opts, 5, 2));
const TP_EVENTS = sized(opts, 20_000, 5_000);
const XADD_N = sized(opts, 50_000, 20_000);
const BATCH = 200;
const WORKERS = 20;
const STEPS = ['job.received', 'job.started', 'job.progress', 'job.progress', 'job.progress', 'job.progress', 'job.progress', 'job.completed'] as const;
const never = new AbortController().signal;

/** A stream of realistic events: `at(n)` gives the event time of the n-th (Unix ms). */
function lifecycleStream(prefix: string, at: (n: number) => number): () => JobscopeEvent {
  let n = 0;
  let nextJob = 0;
  const workers = Array.from({ length: WORKERS }, () => ({ job: nextJob++, step: 0, count: 0 }));
  return () => {
    const w = n % WORKERS;
    const cur = workers[w]!;
    const source = { machineId: `${prefix}-machine-${w % 4}`, workerId: `worker-${w}`, serviceType: 'comfyui', connectorId: 'comfyui-local' };
    const base = { v: 1, id: createEventId(), time: at(n), level: 'info', source, producer: 'bench', seq: n++ };
    cur.count += 1;
    if (cur.count % 20 === 0) {
      return { ...base, type: 'worker.heartbeat', data: { intervalMs: 10_000, currentJobs: [`job-${cur.job}`] } } as JobscopeEvent;
    }
    const type = STEPS[cur.step]!;
    const data =
      type === 'job.progress' ? { progress: (cur.step - 1) * 20, stage: 'sampling' }
      : type === 'job.completed' ? { durationMs: 2400 }
      : type === 'job.received' ? { enqueuedAt: at(n) - 50, queueWaitMs: 50 }
      : {};
    const ev = {
      ...base,
      type,
      job: { id: `job-${cur.job}`, attempt: 1, queue: 'comfyui-jobs', name: 'txt2img' },
      trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' },
      ...(type === 'job.completed' ? { ai: { model: 'sdxl-base-1.0', provider: 'comfyui', inputTokens: 77, gpuSeconds: 4.2, costUsd: 0.0031 } } : {}),
      data,
    } as JobscopeEvent;
    cur.step += 1;
    if (cur.step === STEPS.length) Object.assign(cur, { job: nextJob++, step: 0 });
    return ev;
  };
}

async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const get = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return (get('used_cpu_user_main_thread') + get('used_cpu_sys_main_thread')) * 1e6;
}

/** Redis calls made inside scripts since the last CONFIG RESETSTAT. */
async function innerCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g)) {
    if (!['evalsha', 'eval', 'info', 'config|resetstat', 'script|load'].includes(m[1]!)) calls += Number(m[2]);
  }
  return calls;
}

/** Sink alone: events/s at batch 200, Redis CPU µs and Redis calls per event. */
async function sinkThroughput(url: string, round: number) {
  const redis = new Redis(url);
  const prefix = `tp${round}`;
  const start = Date.now();
  const next = lifecycleStream(prefix, (n) => start + Math.floor(n / WORKERS) * 400);
  const events = Array.from({ length: TP_EVENTS }, next);
  const sink = createStatusSink({ redis, prefix, pruneIntervalMs: 0 });
  await sink.write(events.slice(0, BATCH), never); // loads the script
  await redis.config('RESETSTAT');
  const cpu0 = await redisCpuUs(redis);
  const t0 = performance.now();
  for (let i = BATCH; i < events.length; i += BATCH) {
    const r = await sink.write(events.slice(i, i + BATCH), never);
    if (r.status !== 'ok' || r.rejected) throw new Error(`sink answered ${JSON.stringify(r)}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const n = events.length - BATCH;
  const result = { eventsPerSec: n / seconds, redisCpuUsPerEvent: ((await redisCpuUs(redis)) - cpu0) / n, redisCallsPerEvent: (await innerCalls(redis)) / n };
  await sink.close();
  await redis.flushall();
  redis.disconnect();
  return { ...result, payloadBytes: Math.round(events.reduce((s, e) => s + Buffer.byteLength(encodeEntry(e)[3]!), 0) / events.length) };
}

function redisBenchmarkXadd(port: number, payloadBytes: number): number {
  const payload = 'x'.repeat(payloadBytes);
  const out = execFileSync('redis-benchmark', ['-p', String(port), '-P', '16', '-n', String(XADD_N), '-q', 'XADD', 'bench-xadd', '*', 'v', '1', 'e', payload], { encoding: 'utf8' });
  execFileSync('redis-cli', ['-p', String(port), 'DEL', 'bench-xadd']);
  const m = /([\d.]+) requests per second/.exec(out);
  if (!m) throw new Error(`could not read redis-benchmark output: ${out}`);
  return Number(m[1]);
}

/** Publishes RATE events/s for SECONDS in 5 ms ticks of pipelined XADD; records send times. */
async function produce(redis: Redis, stream: string, prefix: string, sentAt: Map<string, number>): Promise<number> {
  const next = lifecycleStream(prefix, () => Date.now());
  const total = RATE * SECONDS;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
    if (due > sent) {
      const pipeline = redis.pipeline();
      for (; sent < due; sent++) {
        const ev = next();
        sentAt.set(ev.id, performance.now());
        pipeline.xadd(stream, '*', ...encodeEntry(ev));
      }
      await pipeline.exec();
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return total;
}

type Entries = [string, [string, string[]][]][] | null;

/** Reads the group until `stop()`; hands each batch's events to `handle`, then acknowledges its entries. */
async function consume(redis: Redis, stream: string, stop: () => boolean, handle: (events: JobscopeEvent[]) => Promise<void>) {
  await redis.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  while (!stop()) {
    const reply = (await redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 500, 'BLOCK', 100, 'STREAMS', stream, '>')) as Entries;
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) continue;
    const events: JobscopeEvent[] = [];
    for (const [, fields] of entries) {
      // A packed entry (`b`) holds several events; the consumer expands it, as the pipeline does.
      const d = decodeEntryEvents(fields);
      if (d.ok) for (const part of d.parts) if (part.ok) events.push(part.event);
    }
    await handle(events);
    await redis.xack(stream, 'g', ...entries.map(([id]) => id));
  }
}

async function echoRun(url: string, round: number): Promise<LatencySummary> {
  const [prod, cons] = [new Redis(url), new Redis(url)];
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  let total = Infinity;
  const consumer = consume(cons, `echo${round}`, () => lat.length >= total, async (events) => {
    const now = performance.now();
    for (const e of events) lat.push(now - sentAt.get(e.id)!);
  });
  total = await produce(prod, `echo${round}`, `echo${round}`, sentAt);
  await consumer;
  prod.disconnect();
  cons.disconnect();
  return latencySummary(lat);
}

async function statusRun(url: string, round: number): Promise<LatencySummary> {
  const [prod, cons, watch] = [new Redis(url), new Redis(url), new Redis(url)];
  const prefix = `lat${round}`;
  const sink = createStatusSink({ redis: cons, prefix, pruneIntervalMs: 0, feedMax: 1_000_000 });
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  let total = Infinity;
  const consumer = consume(cons, `{${prefix}}:events`, () => lat.length >= total, async (events) => {
    const r = await sink.write(events, never);
    if (r.status !== 'ok') throw new Error(`sink answered ${JSON.stringify(r)}`);
  });
  const observer = (async () => {
    let last = '0';
    while (lat.length < total) {
      const reply = (await watch.xread('COUNT', 1000, 'BLOCK', 100, 'STREAMS', statusKeys(prefix).feed, last)) as Entries;
      const now = performance.now();
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        last = id;
        const t = sentAt.get(fields[fields.indexOf('eventId') + 1]!);
        if (t !== undefined) lat.push(now - t);
      }
    }
  })();
  total = await produce(prod, `{${prefix}}:events`, prefix, sentAt);
  await Promise.all([consumer, observer]);
  await sink.close();
  await cons.flushall();
  for (const c of [prod, cons, watch]) c.disconnect();
  return latencySummary(lat);
}

async function main(): Promise<void> {
  const server = new RedisProcess();
  await server.start();
  const loadBefore = loadavg();
  try {
    const tp: Awaited<ReturnType<typeof sinkThroughput>>[] = [];
    const xadd: number[] = [];
    const echo: LatencySummary[] = [];
    const status: LatencySummary[] = [];
    await sinkThroughput(server.url, -1); // warm-up (JIT, script cache)
    for (let r = 0; r < opts.rounds; r++) {
      tp.push(await sinkThroughput(server.url, r));
      xadd.push(redisBenchmarkXadd(server.port, tp[r]!.payloadBytes));
      echo.push(await echoRun(server.url, r));
      status.push(await statusRun(server.url, r));
      const t = tp[r]!;
      console.log(
        `round ${r + 1}/${opts.rounds}: sink ${Math.round(t.eventsPerSec)} events/s (Redis ${t.redisCpuUsPerEvent.toFixed(1)} µs CPU, ${t.redisCallsPerEvent.toFixed(2)} calls per event); ` +
          `XADD -P 16 ${Math.round(xadd[r]!)}/s; p50/p99 status ${status[r]!.p50Ms.toFixed(1)}/${status[r]!.p99Ms.toFixed(1)} ms, echo ${echo[r]!.p50Ms.toFixed(1)}/${echo[r]!.p99Ms.toFixed(1)} ms`,
      );
    }
    writeResult({
      name: 'status-latency',
      title: 'Status sink: throughput alone, and logger → status visible latency',
      quick: opts.quick,
      rounds: opts.rounds,
      settings: { rateEventsPerSec: RATE, seconds: SECONDS, throughputEvents: TP_EVENTS, batchSize: BATCH, workers: WORKERS, xaddEvents: XADD_N, payloadBytes: tp[0]?.payloadBytes },
      details: {
        redisCpuUsPerEvent: median(tp.map((t) => t.redisCpuUsPerEvent)),
        redisCallsPerEvent: median(tp.map((t) => t.redisCallsPerEvent)),
        latency: { status, echo },
        loadAverage: { before: loadBefore, after: loadavg() },
      },
      figures: [
        makeFigure({
          id: 'status-sink-throughput', label: 'status sink alone, batch 200, lifecycle mix', unit: 'events/s',
          ours: tp.map((t) => t.eventsPerSec), anchor: xadd, anchorWhat: 'redis-benchmark -P 16 XADD, same payload size',
          target: { op: '>=', value: 0.1, aim: 0.2 },
        }),
        makeFigure({
          id: 'status-p99', label: `XADD → status visible p99 at ${RATE}/s`, unit: 'ms',
          ours: status.map((s) => s.p99Ms), anchor: echo.map((s) => s.p99Ms), anchorWhat: 'XADD → XREADGROUP echo p99',
          target: { op: '<=', value: 50, on: 'ours' },
        }),
        makeFigure({
          id: 'status-p50', label: `XADD → status visible p50 at ${RATE}/s`, unit: 'ms',
          ours: status.map((s) => s.p50Ms), anchor: echo.map((s) => s.p50Ms), anchorWhat: 'XADD → XREADGROUP echo p50',
        }),
      ],
    });
  } finally {
    await server.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
