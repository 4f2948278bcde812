/**
 * End-to-end latency (item 4): from a `ConnectorLogger` call until (a) the job-status store
 * shows the change (its live feed entry, read with XREAD BLOCK) and (b) an SSE client of the
 * real API server (`/api/stream`) receives it, p50/p99 at 1k, 5k and 10k events/s. The pipeline
 * (status sink) and the API run in a child process (bench/lib/pipeline-child.ts), as deployed.
 * Anchor, same rate, same round: a bare XADD → XREADGROUP echo loop.
 *
 * Events are job lifecycles (received → started → completed), each call timed when it is made.
 * Events still missing `drainMs` after the last call count at the time waited (a lower bound)
 * and are reported as `late`.
 *
 *   node --import tsx bench/e2e-latency.ts [--quick] [--rounds 5]
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createSseParser } from '../src/cli/sse-parser.js';
import { ConnectorLogger } from '../src/logger/connector-logger.js';
import type { JobLogger } from '../src/logger/types.js';
import { statusKeys } from '../src/status/index.js';
import { runOptions, sized } from './lib/args.js';
import { startChild } from './lib/child.js';
import { deleteKeys } from './lib/redis-keys.js';
import { makeFigure, writeResult, type Figure } from './lib/result.js';
import { latencySummary, type LatencySummary } from './lib/stats.js';

const opts = runOptions();
const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RATES = [1000, 5000, 10_000];
const SECONDS = sized(opts, 2, 1);
const DRAIN_MS = sized(opts, 10_000, 5_000);
const TICK_MS = 1;
const prefix = `bench-e2e-${randomBytes(4).toString('hex')}`;
const STEPS = ['job.received', 'job.started', 'job.completed'] as const;
/**
 * The benchmark's logger flushes a partial batch after at most this long (JOBSCOPE_FLUSH_INTERVAL_MS,
 * default 20 ms). The echo anchor sends every 1 ms tick, so with the default most of the
 * measured latency would be the logger's batching wait, by design; 2 ms is a legitimate
 * configuration for latency-sensitive installations and makes the comparison like for like.
 */
const FLUSH_INTERVAL_MS = 5;

/** One measured run: send times by key, and arrival latencies per observer. */
interface Collector {
  sentAt: Map<string, number>;
  lat: Record<'status' | 'sse' | 'echo', number[]>;
  got: Record<'status' | 'sse' | 'echo', Set<string>>;
}

function collector(): Collector {
  return { sentAt: new Map(), lat: { status: [], sse: [], echo: [] }, got: { status: new Set(), sse: new Set(), echo: new Set() } };
}
let current: Collector | undefined;

function arrived(kind: keyof Collector['lat'], key: string): void {
  const c = current;
  const t = c?.sentAt.get(key);
  if (c && t !== undefined && !c.got[kind].has(key)) {
    c.got[kind].add(key);
    c.lat[kind].push(performance.now() - t);
  }
}

/** Calls `emit(n)` for n = 0.. at `rate` per second for SECONDS, then awaits `afterTick` each tick. */
async function schedule(rate: number, emit: (n: number) => void, afterTick: () => Promise<void>): Promise<number> {
  const total = rate * SECONDS;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    for (; sent < due; sent++) emit(sent);
    await afterTick();
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  return total;
}

async function untilCollected(c: Collector, kinds: (keyof Collector['lat'])[], total: number): Promise<number> {
  const deadline = performance.now() + DRAIN_MS;
  while (performance.now() < deadline && kinds.some((k) => c.lat[k].length < total)) await new Promise((r) => setTimeout(r, 10));
  let late = 0;
  const waited = performance.now();
  for (const k of kinds) {
    // What never arrived counts at the time waited so far: a lower bound of its latency.
    for (const [key, t] of c.sentAt) {
      if (c.got[k].has(key)) continue;
      late++;
      c.lat[k].push(waited - t);
    }
  }
  return late;
}

async function echoRun(rate: number, run: string): Promise<LatencySummary> {
  const prod = new Redis(URL);
  const cons = new Redis(URL);
  const stream = `{${prefix}}:echo-${run}`;
  await cons.xgroup('CREATE', stream, 'echo', '0', 'MKSTREAM');
  const c = collector();
  current = c;
  let stop = false;
  const consumer = (async () => {
    while (!stop) {
      const reply = (await cons.xreadgroup('GROUP', 'echo', 'c', 'COUNT', 1000, 'BLOCK', 100, 'STREAMS', stream, '>')) as [string, [string, string[]][]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      for (const [, fields] of entries) arrived('echo', fields[1]!);
      if (entries.length > 0) await cons.xack(stream, 'echo', ...entries.map(([id]) => id));
    }
  })();
  let pipe = prod.pipeline();
  const total = await schedule(
    rate,
    (n) => {
      const key = `${run}-${n}`;
      c.sentAt.set(key, performance.now());
      pipe.xadd(stream, '*', 'k', key, 'e', 'x'.repeat(400));
    },
    async () => {
      const p = pipe;
      pipe = prod.pipeline();
      if (p.length > 0) await p.exec();
    },
  );
  await untilCollected(c, ['echo'], total);
  stop = true;
  await consumer;
  await prod.del(stream);
  prod.disconnect();
  cons.disconnect();
  return latencySummary(c.lat.echo);
}

async function loggerRun(logger: ConnectorLogger, rate: number, run: string): Promise<{ status: LatencySummary; sse: LatencySummary; late: number }> {
  const c = collector();
  current = c;
  const jobs = new Map<number, JobLogger>();
  const total = await schedule(
    rate,
    (n) => {
      const j = Math.floor(n / STEPS.length);
      const step = n % STEPS.length;
      const jobId = `job-${run}-${j}`;
      let job = jobs.get(j);
      if (!job) jobs.set(j, (job = logger.withJobContext(jobId, { attempt: 1, queue: 'bench' })));
      c.sentAt.set(`${jobId}|${STEPS[step]}`, performance.now());
      if (step === 0) job.jobReceived();
      else if (step === 1) job.jobStarted();
      else {
        job.jobCompleted({ durationMs: 5 });
        jobs.delete(j);
      }
    },
    () => Promise.resolve(),
  );
  const late = await untilCollected(c, ['status', 'sse'], total);
  return { status: latencySummary(c.lat.status), sse: latencySummary(c.lat.sse), late };
}

/** Follows the status store's feed: every entry is a change the store made visible. */
function watchFeed(stop: () => boolean): Promise<void> {
  const redis = new Redis(URL);
  const feedKey = statusKeys(prefix).feed;
  return (async () => {
    let last = '$';
    while (!stop()) {
      const reply = (await redis.xread('COUNT', 1000, 'BLOCK', 100, 'STREAMS', feedKey, last)) as [string, [string, string[]][]][] | null;
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        last = id;
        const f = new Map<string, string>();
        for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
        arrived('status', `${f.get('jobId')}|${f.get('eventType')}`);
      }
    }
    redis.disconnect();
  })();
}

/** An EventSource-like client of `/api/stream`: resolves once connected. */
function followSse(port: number): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/stream', headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE answered ${res.statusCode}`));
      const parser = createSseParser();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const m of parser.push(chunk)) {
          if (m.event !== 'job') continue;
          const e = JSON.parse(m.data) as { jobId?: string; eventType?: string };
          arrived('sse', `${e.jobId}|${e.eventType}`);
        }
      });
      resolve(req);
    });
    req.on('error', reject);
  });
}

async function main(): Promise<void> {
  const pipeline = startChild('lib/pipeline-child.ts', { BENCH_PIPELINE: JSON.stringify({ redisUrl: URL, prefix, sinks: ['status'], api: true }) });
  const logger = new ConnectorLogger({ machineId: 'bench-machine', workerId: 'worker-001', serviceType: 'comfyui', connectorId: 'comfyui-local', redis: URL, prefix, stdout: false, level: 'silent', spoolMaxBytes: 0, flushIntervalMs: FLUSH_INTERVAL_MS });
  let stop = false;
  const feed = watchFeed(() => stop);
  try {
    const ready = await pipeline.next('ready', 60_000);
    const sse = await followSse(Number(ready.apiPort));
    const runs = { echo: new Map<number, LatencySummary[]>(), status: new Map<number, LatencySummary[]>(), sse: new Map<number, LatencySummary[]>() };
    for (const m of Object.values(runs)) for (const r of RATES) m.set(r, []);
    let late = 0;
    await loggerRun(logger, 1000, 'warmup');
    for (let round = 0; round < opts.rounds; round++) {
      for (const rate of RATES) {
        runs.echo.get(rate)!.push(await echoRun(rate, `${round}-${rate}`));
        const ours = await loggerRun(logger, rate, `${round}-${rate}`);
        runs.status.get(rate)!.push(ours.status);
        runs.sse.get(rate)!.push(ours.sse);
        late += ours.late;
        const p = (s: LatencySummary) => `${s.p50Ms.toFixed(1)}/${s.p99Ms.toFixed(1)}`;
        console.log(`round ${round + 1} @${rate}/s p50/p99 ms: echo ${p(runs.echo.get(rate)!.at(-1)!)}, status ${p(ours.status)}, sse ${p(ours.sse)}${ours.late ? `, late ${ours.late}` : ''}`);
      }
    }
    sse.destroy();
    const figures: Figure[] = [];
    for (const path of ['status', 'sse'] as const) {
      for (const rate of RATES) {
        for (const q of ['p50Ms', 'p99Ms'] as const) {
          const k = `${rate / 1000}k`;
          figures.push(
            makeFigure({
              id: `4-${path}-${k}-${q.slice(0, 3)}`,
              label: `logger call → ${path === 'status' ? 'status store' : 'SSE client'}, ${q.slice(0, 3)} at ${rate}/s`,
              unit: 'ms',
              ours: runs[path].get(rate)!.map((s) => s[q]),
              anchor: runs.echo.get(rate)!.map((s) => s[q]),
              anchorWhat: `XADD → XREADGROUP echo, ${q.slice(0, 3)}`,
              ...(q === 'p99Ms' ? { target: { op: '<=' as const, value: 3 } } : {}),
            }),
          );
        }
      }
    }
    writeResult({
      name: 'e2e-latency',
      title: 'Latency logger call → status store / SSE vs XADD echo',
      quick: opts.quick,
      rounds: opts.rounds,
      settings: { rates: RATES, secondsPerRun: SECONDS, drainMs: DRAIN_MS, tickMs: TICK_MS, flushIntervalMs: FLUSH_INTERVAL_MS, sinks: ['status'] },
      details: { late, runs: Object.fromEntries(Object.entries(runs).map(([k, m]) => [k, Object.fromEntries(m)])) },
      figures,
    });
  } finally {
    stop = true;
    await logger.close(10_000);
    await feed;
    await pipeline.stop();
    await deleteKeys(URL, [`{${prefix}}*`, `${prefix}*`]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
