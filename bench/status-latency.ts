/**
 * Job-status latency: from the XADD of an event (as the publisher does it) until the status
 * store shows the change (its feed entry, read with XREAD BLOCK), through a minimal consumer
 * (XREADGROUP → status sink write → XACK), at a fixed rate. Beside it, the anchor: a bare
 * XADD → XREADGROUP echo at the same rate, in the same run. Then the events/s the sink alone
 * applies in batches of 200, for several events-per-Lua-call settings, beside a pipelined XADD
 * of the same batches. Prints figures and ratios; writes bench/results/status-latency.json.
 *
 *   node --import tsx bench/status-latency.ts [rate=2000] [seconds=10]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createEventId, decodeEntry, encodeEntry, type JobscopeEvent } from '../src/events/index.js';
import { createStatusSink } from '../src/sinks/status/index.js';
import { statusKeys } from '../src/status/index.js';

const RATE = Number(process.argv[2] ?? 2000);
const SECONDS = Number(process.argv[3] ?? 10);
const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `bench-status-${process.pid}`;
const STEPS = ['job.received', 'job.started', 'job.progress', 'job.progress', 'job.progress', 'job.completed'] as const;

let seq = 0;
/** The n-th event of a stream of realistic job lifecycles (6 events per job, 20 workers). */
function lifecycleEvent(n: number): JobscopeEvent {
  const job = Math.floor(n / STEPS.length);
  const type = STEPS[n % STEPS.length]!;
  const step = n % STEPS.length;
  const data =
    type === 'job.progress' ? { progress: step * 25 } : type === 'job.completed' ? { durationMs: 1000 } : {};
  return {
    v: 1,
    id: createEventId(),
    time: Date.now(),
    level: 'info',
    type,
    source: { machineId: 'bench-machine', workerId: `worker-${job % 20}`, serviceType: 'comfyui', connectorId: 'comfyui-local' },
    producer: 'bench',
    seq: seq++,
    job: { id: `job-${job}`, attempt: 1 },
    trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' },
    ai: type === 'job.completed' ? { model: 'flux-dev', inputTokens: 10, outputTokens: 20, costUsd: 0.01 } : undefined,
    data,
  } as JobscopeEvent;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(latencies: number[]) {
  const s = [...latencies].sort((a, b) => a - b);
  return { count: s.length, p50Ms: +percentile(s, 50).toFixed(3), p99Ms: +percentile(s, 99).toFixed(3), maxMs: +(s[s.length - 1] ?? NaN).toFixed(3) };
}

/** Publishes RATE events/s for SECONDS, in 5 ms ticks of pipelined XADD; records send times. */
async function produce(redis: Redis, stream: string, sentAt: Map<string, number>): Promise<number> {
  const start = performance.now();
  let sent = 0;
  const total = RATE * SECONDS;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
    if (due > sent) {
      const pipeline = redis.pipeline();
      for (; sent < due; sent++) {
        const ev = lifecycleEvent(sent);
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

/** Reads the group until `stop()`; hands each batch to `handle`, then acknowledges it. */
async function consume(redis: Redis, stream: string, group: string, stop: () => boolean, handle: (events: JobscopeEvent[]) => Promise<void>) {
  await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  while (!stop()) {
    const reply = (await redis.xreadgroup('GROUP', group, 'c1', 'COUNT', 500, 'BLOCK', 200, 'STREAMS', stream, '>')) as Entries;
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) continue;
    const events: JobscopeEvent[] = [];
    for (const [, fields] of entries) {
      const d = decodeEntry(fields);
      if (d.ok) events.push(d.event);
    }
    await handle(events);
    await redis.xack(stream, group, ...entries.map(([id]) => id));
  }
}

async function echoRun(): Promise<ReturnType<typeof summary>> {
  const prod = new Redis(URL);
  const cons = new Redis(URL);
  const stream = `{${PREFIX}}:echo`;
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  let total = Infinity;
  const consumer = consume(cons, stream, 'echo', () => lat.length >= total, async (events) => {
    const now = performance.now();
    for (const e of events) lat.push(now - sentAt.get(e.id)!);
  });
  total = await produce(prod, stream, sentAt);
  await consumer;
  prod.disconnect();
  cons.disconnect();
  return summary(lat);
}

async function statusRun(): Promise<ReturnType<typeof summary>> {
  const prod = new Redis(URL);
  const cons = new Redis(URL);
  const watch = new Redis(URL);
  const stream = `{${PREFIX}}:events`;
  const feedKey = statusKeys(PREFIX).feed;
  const sink = createStatusSink({ redis: cons, prefix: PREFIX, pruneIntervalMs: 0, feedMax: 100_000 });
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  let total = Infinity;
  const consumer = consume(cons, stream, 'status', () => lat.length >= total, async (events) => {
    const r = await sink.write(events, new AbortController().signal);
    if (r.status !== 'ok') throw new Error(`sink answered ${JSON.stringify(r)}`);
  });
  const observer = (async () => {
    let last = '0';
    while (lat.length < total) {
      const reply = (await watch.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', feedKey, last)) as Entries;
      const entries = reply?.[0]?.[1] ?? [];
      const now = performance.now();
      for (const [id, fields] of entries) {
        last = id;
        const eventId = fields[fields.indexOf('eventId') + 1]!;
        const t = sentAt.get(eventId);
        if (t !== undefined) lat.push(now - t);
      }
    }
  })();
  total = await produce(prod, stream, sentAt);
  await Promise.all([consumer, observer]);
  await sink.close();
  for (const c of [prod, cons, watch]) c.disconnect();
  return summary(lat);
}

/** Events/s the sink applies alone, batches of 200, beside pipelined XADD of the same batches. */
async function throughputRun(eventsPerCall: number[]) {
  const redis = new Redis(URL);
  const events = Array.from({ length: 30_000 }, (_, i) => lifecycleEvent(i));
  const batches: JobscopeEvent[][] = [];
  for (let i = 0; i < events.length; i += 200) batches.push(events.slice(i, i + 200));
  const t0 = performance.now();
  for (const b of batches) {
    const p = redis.pipeline();
    for (const e of b) p.xadd(`{${PREFIX}}:xadd`, '*', ...encodeEntry(e));
    await p.exec();
  }
  const xaddPerSec = events.length / ((performance.now() - t0) / 1000);
  const sink: Record<string, number> = {};
  for (const per of eventsPerCall) {
    const prefix = `${PREFIX}-tp${per}`;
    const s = createStatusSink({ redis, prefix, pruneIntervalMs: 0, eventsPerCall: per });
    const t1 = performance.now();
    for (const b of batches) await s.write(b, new AbortController().signal);
    sink[`eventsPerCall=${per}`] = Math.round(events.length / ((performance.now() - t1) / 1000));
    await s.close();
    await cleanup(redis, prefix);
  }
  redis.disconnect();
  return { events: events.length, batchSize: 200, xaddPerSec: Math.round(xaddPerSec), sinkPerSec: sink };
}

async function cleanup(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${prefix}}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

const admin = new Redis(URL);
try {
  console.log(`rate ${RATE} events/s for ${SECONDS} s each run`);
  const echo = await echoRun();
  console.log(`anchor  XADD → XREADGROUP echo:       p50 ${echo.p50Ms} ms  p99 ${echo.p99Ms} ms  (n=${echo.count})`);
  const status = await statusRun();
  console.log(`status  XADD → sink → feed visible:   p50 ${status.p50Ms} ms  p99 ${status.p99Ms} ms  (n=${status.count})`);
  const ratio = { p50: +(status.p50Ms / echo.p50Ms).toFixed(2), p99: +(status.p99Ms / echo.p99Ms).toFixed(2) };
  console.log(`ratio status / echo: p50 ${ratio.p50}×  p99 ${ratio.p99}×  (target: status p99 ≤ 50 ms)`);
  const tp = await throughputRun([1, 50, 200]);
  for (const [k, v] of Object.entries(tp.sinkPerSec)) {
    console.log(`sink alone, batch 200, ${k}: ${v} events/s = ${(v / tp.xaddPerSec).toFixed(2)}× pipelined XADD (${tp.xaddPerSec} events/s)`);
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/status-latency.json',
    JSON.stringify({ rateEventsPerSec: RATE, seconds: SECONDS, echo, status, ratio, throughput: tp, at: new Date().toISOString() }, null, 2),
  );
} finally {
  await cleanup(admin, PREFIX);
  admin.disconnect();
}
