/**
 * Benchmark: BullMQ no-op job throughput with Jobscope instrumentation on ÷ off, in one run.
 *
 * Each round pre-adds N no-op jobs with addBulk to a fresh queue, then starts a worker
 * (concurrency 50, same BullMQ settings on both sides) and measures from the first job turning
 * active to the last one completed (for "on", until the logger's events are also in Redis).
 *
 * - off: a plain BullMQ Worker.
 * - on: what a Jobscope job worker runs — createJobWorker + ConnectorLogger: every job emits
 *   job.received, job.started and job.completed to the Redis event stream (plus heartbeats,
 *   cancel listening, pricing). JSON lines off (`JOBSCOPE_LOG_STDOUT=false`): the headline.
 * - on + lines: the same with one JSON line per event (pino's format), to /dev/null, written as
 *   stdout is by default (synchronously, the lines of one turn of the event loop in one write).
 * - bare: the same runtime (createJobWorker, its processor, staging, cancel listening, pricing)
 *   with a logger that drops every event: what the runtime costs apart from its events, so the
 *   gap between off and on splits into the runtime's share and the events' share.
 *
 * Each round runs every variant twice, in a palindrome (e.g. off, on, lines, bare, bare, lines, on, off;
 * the starting variant rotates from round to round), and a variant's rate in the round is its
 * jobs over the time of its two runs. Every variant's runs then sit at the same mean position
 * in the round, so a drift of the machine's speed that is linear over the round weighs on all
 * of them alike instead of on whichever ran last; a sudden step in speed is not cancelled, only
 * averaged over two runs. The figure is the median of the per-round ratios. After each run the
 * events it wrote are deleted, so every run finds Redis alike. Besides throughput, each round
 * records per variant this process's CPU per job (all threads, and the main thread alone where
 * /proc gives it) and Redis's (INFO cpu; the Redis server is shared, so that one is indicative
 * only), and the load average. CPU is counted from the worker's start to its close, a little
 * wider than the timed window (first job active → end).
 *
 * On a 2-core machine the worker and Redis share the cores, and a plain BullMQ worker's rate
 * swings by up to 2x between runs a few seconds apart (the same code, the same jobs). In one
 * 10-round run of a plain and an instrumented worker on 2026-12-01 (a scratch harness, off on
 * on off per round), the ratio of each round's first adjacent pair had an interquartile range
 * of 0.111, the palindrome's ratio over the same rounds 0.028. With more variants the
 * palindrome is longer (eight runs, ≈ 15 s, with four): the first run with three had per-round
 * ratios 0.760–0.903 (interquartile range ≈ 0.06), and on 2026-12-02 the four-variant runs had
 * per-round ranges up to 0.635–0.984. Hence the palindromes, 7 rounds by default (14 runs per
 * variant), and min/max beside the median.
 *
 * Run: node --import tsx bench/worker-overhead.ts [--quick] [--rounds 7]   (REDIS_URL, BENCH_JOBS)
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Connector } from '../connectors/connector.js';
import type * as JobWorkerModule from '../src/jobs/job-worker.js';
import type * as PriceTableModule from '../src/jobs/price-table.js';
import type * as PricingModule from '../src/jobs/pricing.js';
import type * as RedisConnectionModule from '../src/jobs/redis-connection.js';
import type * as ConnectorLoggerModule from '../src/logger/connector-logger.js';
import type { WorkerLogger } from '../src/jobs/worker-logger.js';
import type { StagedLifecycle } from '../src/logger/job-logger.js';
import type { JobLogger } from '../src/logger/types.js';
import { decodeEntryEvents, eventStreamKey } from '../src/events/index.js';
import { runOptions, sized } from './lib/args.js';
import { codeKind, importCode } from './lib/code-root.js';
import { makeFigure, writeResult } from './lib/result.js';
import { median } from './lib/stats.js';
import { unlinkMatching } from '../test/helpers/redis.js';

// The runtime as deployed: the built dist/ (see code-root.ts). Under tsx every closure of the
// TypeScript sources is wrapped in a naming helper, which alone added ~8 µs per job here.
const { createJobWorker } = await importCode<typeof JobWorkerModule>('jobs/job-worker.js');
const { loadPriceTable } = await importCode<typeof PriceTableModule>('jobs/price-table.js');
const { createPricing } = await importCode<typeof PricingModule>('jobs/pricing.js');
const { asBullConnection } = await importCode<typeof RedisConnectionModule>('jobs/redis-connection.js');
const { ConnectorLogger } = await importCode<typeof ConnectorLoggerModule>('logger/connector-logger.js');

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const opts = runOptions(process.argv.slice(2), 7);
const JOBS = Number(process.env.BENCH_JOBS ?? sized(opts, 20_000, 2000));
const ROUNDS = opts.rounds;
const CONCURRENCY = 50;
const prefix = `jsbench-${randomBytes(4).toString('hex')}`;
const bullPrefix = `${prefix}-bull`;
const pricing = createPricing(loadPriceTable());
const noop: Connector = { serviceType: 'simulated', name: 'noop', run: () => Promise.resolve({}) };
// Written as stdout is by default: synchronously (see log-lines.ts).
const devNull = pino.destination({ dest: '/dev/null', sync: true });
const info = new Redis(REDIS_URL);

type Variant = 'off' | 'on' | 'lines' | 'bare';

/**
 * A job logger that drops every event (variant "bare"). It takes staged lifecycle events as
 * ConnectorLogger's job loggers do, so the runtime goes the same way as in "on" (one call per
 * short attempt, no object per event).
 */
const droppingJobLogger: JobLogger & StagedLifecycle = {
  jobId: 'bench',
  attempt: 1,
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  jobReceived: () => undefined,
  jobStarted: () => undefined,
  jobProgress: () => undefined,
  jobCompleted: () => undefined,
  jobFailed: () => undefined,
  jobRetrying: () => undefined,
  jobCancelled: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  recordUsage: () => undefined,
  stagedStart: () => undefined,
  stagedCompleted: () => undefined,
  stagedAttempt: () => undefined,
};

/** The worker runtime's logger for variant "bare": every event dropped, nothing to flush. */
const droppingLogger: WorkerLogger = {
  withJobContext: () => droppingJobLogger,
  workerStarted: () => undefined,
  workerStopped: () => undefined,
  startHeartbeats: () => () => undefined,
  flush: () => Promise.resolve(true),
  onFlush: () => () => undefined,
};

interface Round {
  jobsPerSec: number;
  /** This process's CPU (user + system, every thread) per job, in µs. */
  workerCpuUs: number;
  /** This process's main thread's CPU per job, in µs (NaN, null in the JSON, where /proc does not say). */
  mainCpuUs: number;
  /** Redis server CPU per job, in µs (shared server: indicative). */
  redisCpuUs: number;
}

/** One run of one variant: its time (first job active → end) and what it used. */
interface Run {
  ms: number;
  cpuUs: number;
  mainCpuUs: number;
  redisCpuUs: number;
}

/** The main thread's CPU time so far in µs (NaN where /proc/self/task/<pid>/stat is not there). */
function mainThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

async function redisCpuSeconds(): Promise<number> {
  const text = await info.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(text)?.[1] ?? 0);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(text)?.[1] ?? 0);
  return user + sys;
}

async function fill(queueName: string): Promise<{ queue: Queue; connection: Redis }> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection: asBullConnection(connection), prefix: bullPrefix });
  const jobs = Array.from({ length: JOBS }, (_, i) => ({ name: 'noop', data: { i }, opts: { removeOnComplete: true } }));
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  return { queue, connection };
}

/** First active and last completed, in performance.now() ms. */
function timing(worker: Worker): Promise<{ first: number; last: number }> {
  return new Promise((resolve) => {
    let first = 0;
    let done = 0;
    worker.on('active', () => (first ||= performance.now()));
    worker.on('completed', () => {
      if (++done === JOBS) resolve({ first, last: performance.now() });
    });
  });
}

/** Runs the jobs with a plain Worker; returns [first active, end] in ms. */
async function runOff(queueName: string): Promise<[number, number]> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(queueName, () => Promise.resolve(null), { connection: asBullConnection(connection), prefix: bullPrefix, concurrency: CONCURRENCY });
  const t = await timing(worker);
  await worker.close();
  connection.disconnect();
  return [t.first, t.last];
}

/** Runs the jobs with the Jobscope runtime and no events (variant "bare"). */
async function runBare(queueName: string): Promise<[number, number]> {
  const jw = createJobWorker({ connection: REDIS_URL, queue: queueName, connector: noop, logger: droppingLogger, concurrency: CONCURRENCY, prefix, bullPrefix, pricing });
  const t = await timing(jw.worker);
  await jw.close();
  return [t.first, t.last];
}

/** Runs the jobs with the Jobscope runtime; the end is when the events are in Redis too. */
async function runOn(queueName: string, lines: boolean): Promise<[number, number]> {
  const logger = new ConnectorLogger({
    machineId: 'bench',
    workerId: 'bench-1',
    serviceType: 'simulated',
    redis: REDIS_URL,
    prefix,
    stdout: lines,
    ...(lines ? { destination: devNull } : {}),
    spoolMaxBytes: 0,
  });
  const jw = createJobWorker({ connection: REDIS_URL, queue: queueName, connector: noop, logger, concurrency: CONCURRENCY, prefix, bullPrefix, pricing });
  const t = await timing(jw.worker);
  await logger.flush(30_000);
  const end = performance.now();
  await jw.close();
  await logger.close();
  return [t.first, Math.max(end, t.last)];
}

/** Bytes per event in the stream, as written (packed) and as the same events would be written whole. */
const streamSize = { packed: 0, whole: 0, events: 0 };

async function measureStream(): Promise<void> {
  const stream = eventStreamKey({ prefix });
  for (let from = '-'; ; ) {
    const entries = await info.xrange(stream, from, '+', 'COUNT', 500);
    for (const [, fields] of entries) {
      const d = decodeEntryEvents(fields);
      if (!d.ok) continue;
      streamSize.packed += fields.reduce((n, f) => n + Buffer.byteLength(f), 0);
      for (const part of d.parts) {
        if (!part.ok) continue;
        streamSize.whole += Buffer.byteLength(JSON.stringify(part.event)) + 4; // + the "v"/"e" framing of a single-event entry
        streamSize.events++;
      }
    }
    if (entries.length < 500) break;
    from = `(${entries.at(-1)![0]}`;
  }
}

async function run(variant: Variant, queueName: string): Promise<Run> {
  const { queue, connection } = await fill(queueName);
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuUs();
  const redis0 = await redisCpuSeconds();
  const [first, end] = variant === 'off' ? await runOff(queueName) : variant === 'bare' ? await runBare(queueName) : await runOn(queueName, variant === 'lines');
  const cpu = process.cpuUsage(cpu0);
  const main = mainThreadCpuUs() - main0;
  const redis1 = await redisCpuSeconds();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  if (variant === 'on' && streamSize.events < 50_000) await measureStream();
  // The run's events (and the producer's add-once marks): the next run finds Redis as this one did.
  await unlinkMatching(info, [`{${prefix}}*`]);
  return { ms: end - first, cpuUs: cpu.user + cpu.system, mainCpuUs: main, redisCpuUs: (redis1 - redis0) * 1e6 };
}

/** A variant's two runs of a round as one: its jobs over their time, their CPU per job. */
function combine(runs: readonly Run[]): Round {
  const sum = (k: keyof Run) => runs.reduce((n, r) => n + r[k], 0);
  const jobs = JOBS * runs.length;
  return {
    jobsPerSec: jobs / (sum('ms') / 1000),
    workerCpuUs: sum('cpuUs') / jobs,
    mainCpuUs: sum('mainCpuUs') / jobs,
    redisCpuUs: sum('redisCpuUs') / jobs,
  };
}

async function main(): Promise<void> {
  const results: Record<Variant, Round[]> = { off: [], on: [], lines: [], bare: [] };
  const variants: Variant[] = ['off', 'on', 'lines', 'bare'];
  const loads: number[] = [];
  await run('off', `${prefix}-warmup-off`);
  await run('on', `${prefix}-warmup-on`);
  await run('bare', `${prefix}-warmup-bare`);
  for (let r = 0; r < ROUNDS; r++) {
    // A palindrome, starting with a different variant each round: off on lines bare bare lines on off, …
    const rotation = variants.map((_, i) => variants[(i + r) % variants.length]!);
    const runs: Record<Variant, Run[]> = { off: [], on: [], lines: [], bare: [] };
    for (const [k, v] of [...rotation, ...[...rotation].reverse()].entries()) runs[v].push(await run(v, `${prefix}-${v}-${r}-${k}`));
    for (const v of variants) results[v].push(combine(runs[v]));
    loads.push(loadavg()[0]!);
    const f = (v: Variant) => `${v} ${results[v].at(-1)!.jobsPerSec.toFixed(0)} jobs/s (${results[v].at(-1)!.workerCpuUs.toFixed(0)} µs cpu/job)`;
    const ratio = results.on.at(-1)!.jobsPerSec / results.off.at(-1)!.jobsPerSec;
    const bare = results.bare.at(-1)!.jobsPerSec / results.off.at(-1)!.jobsPerSec;
    console.log(`round ${r + 1}/${ROUNDS} (${rotation.join(' ')} ⟲): ${variants.map(f).join(', ')}; on/off ${ratio.toFixed(3)}, bare/off ${bare.toFixed(3)}; load ${loads.at(-1)!.toFixed(2)}`);
  }
  const rate = (v: Variant) => results[v].map((x) => x.jobsPerSec);
  const perJob = (v: Variant, k: 'workerCpuUs' | 'mainCpuUs' | 'redisCpuUs') => Math.round(median(results[v].map((x) => x[k])));
  console.log(`\nBullMQ no-op throughput, ${JOBS} jobs/run, 2 runs per variant per round, concurrency ${CONCURRENCY}, ${ROUNDS} rounds; load average ${loads.map((l) => l.toFixed(2)).join(', ')}`);
  console.log(`  stream: ${Math.round(streamSize.packed / Math.max(1, streamSize.events))} bytes/event packed, ${Math.round(streamSize.whole / Math.max(1, streamSize.events))} if written whole (${streamSize.events} events)`);
  for (const v of variants) {
    console.log(`  ${v.padEnd(5)} median cpu per job: worker ${perJob(v, 'workerCpuUs')} µs (main thread ${perJob(v, 'mainCpuUs')}), redis ${perJob(v, 'redisCpuUs')} µs`);
  }
  writeResult({
    name: 'worker-overhead',
    title: 'Job worker overhead, instrumentation on / off',
    quick: opts.quick,
    rounds: ROUNDS,
    settings: { jobsPerRun: JOBS, runsPerVariantPerRound: 2, order: 'palindrome', concurrency: CONCURRENCY, eventsPerJob: 3, code: codeKind },
    details: {
      loadAverage1m: loads,
      streamBytesPerEvent: {
        packed: Math.round(streamSize.packed / Math.max(1, streamSize.events)),
        whole: Math.round(streamSize.whole / Math.max(1, streamSize.events)),
        events: streamSize.events,
      },
      medianCpuPerJobUs: Object.fromEntries(variants.map((v) => [v, { worker: perJob(v, 'workerCpuUs'), mainThread: perJob(v, 'mainCpuUs'), redis: perJob(v, 'redisCpuUs') }])),
      rounds: results,
    },
    figures: [
      makeFigure({
        id: '6',
        label: 'BullMQ no-op jobs with Jobscope (createJobWorker + ConnectorLogger, JSON lines off)',
        unit: 'jobs/s',
        ours: rate('on'),
        anchor: rate('off'),
        anchorWhat: 'plain BullMQ Worker, same jobs',
        target: { op: '>=', value: 0.9, aim: 0.95 },
      }),
      makeFigure({
        id: '6b',
        label: 'the same with a JSON line per event to /dev/null (as to stdout, the default)',
        unit: 'jobs/s',
        ours: rate('lines'),
        anchor: rate('off'),
        anchorWhat: 'plain BullMQ Worker, same jobs',
      }),
      makeFigure({
        id: '6c',
        label: 'the runtime alone: createJobWorker with a logger that drops every event',
        unit: 'jobs/s',
        ours: rate('bare'),
        anchor: rate('off'),
        anchorWhat: 'plain BullMQ Worker, same jobs',
      }),
    ],
  });
}

async function cleanup(): Promise<void> {
  // The events the "on" rounds wrote, and any queue a failed round left behind.
  await unlinkMatching(info, [`{${prefix}}*`, `${prefix}*`]);
  info.disconnect();
  devNull.end();
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => cleanup().catch((err: unknown) => console.error('cleanup failed:', err)));
