/**
 * Benchmark: BullMQ no-op job throughput with Jobscope instrumentation on ÷ off, in one run.
 *
 * Each round pre-adds N no-op jobs with addBulk to a fresh queue, then starts a worker
 * (concurrency 50) and measures from the first job turning active to the last one completed
 * (for "on", until the logger's events are also in Redis). "off" is a plain BullMQ Worker;
 * "on" is createJobWorker with a ConnectorLogger (every job: received, started, completed
 * events, cancel lookups, pricing). Rounds alternate on/off; min/median/max over ROUNDS rounds.
 *
 * Run: node --import tsx bench/worker-overhead.ts [--quick] [--rounds 5]   (REDIS_URL, BENCH_JOBS)
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Connector } from '../connectors/connector.js';
import { createJobWorker } from '../src/jobs/job-worker.js';
import { loadPriceTable } from '../src/jobs/price-table.js';
import { createPricing } from '../src/jobs/pricing.js';
import { asBullConnection } from '../src/jobs/redis-connection.js';
import { ConnectorLogger } from '../src/logger/connector-logger.js';
import { runOptions, sized } from './lib/args.js';
import { makeFigure, writeResult } from './lib/result.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const opts = runOptions();
const JOBS = Number(process.env.BENCH_JOBS ?? sized(opts, 3000, 1000));
const ROUNDS = opts.rounds;
const CONCURRENCY = 50;
const prefix = `jsbench-${randomBytes(4).toString('hex')}`;
const bullPrefix = `${prefix}-bull`;
const pricing = createPricing(loadPriceTable());
const noop: Connector = { serviceType: 'simulated', name: 'noop', run: () => Promise.resolve({}) };

async function fill(queueName: string): Promise<Queue> {
  const queue = new Queue(queueName, { connection: asBullConnection(new Redis(REDIS_URL, { maxRetriesPerRequest: null })), prefix: bullPrefix });
  const jobs = Array.from({ length: JOBS }, (_, i) => ({ name: 'noop', data: { i }, opts: { removeOnComplete: true } }));
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  return queue;
}

/** Jobs per second from first active to last completed. */
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

async function roundOff(queueName: string): Promise<number> {
  const queue = await fill(queueName);
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(queueName, () => Promise.resolve(null), { connection: asBullConnection(connection), prefix: bullPrefix, concurrency: CONCURRENCY });
  const t = await timing(worker);
  await worker.close();
  connection.disconnect();
  await queue.obliterate({ force: true });
  await queue.close();
  return JOBS / ((t.last - t.first) / 1000);
}

async function roundOn(queueName: string): Promise<number> {
  const queue = await fill(queueName);
  const logger = new ConnectorLogger({ machineId: 'bench', workerId: 'bench-1', serviceType: 'simulated', redis: REDIS_URL, prefix, stdout: false, level: 'silent', spoolMaxBytes: 0 });
  const jw = createJobWorker({ connection: REDIS_URL, queue: queueName, connector: noop, logger, concurrency: CONCURRENCY, prefix, bullPrefix, pricing });
  const t = await timing(jw.worker);
  await logger.flush(30_000);
  const end = performance.now();
  await jw.close();
  await logger.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return JOBS / ((Math.max(end, t.last) - t.first) / 1000);
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s.at(-1)! };
};

async function main(): Promise<void> {
  const on: number[] = [];
  const off: number[] = [];
  await roundOff(`${prefix}-warmup`);
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so drift (other load on the box) hits both alike.
    if (r % 2 === 0) {
      off.push(await roundOff(`${prefix}-off-${r}`));
      on.push(await roundOn(`${prefix}-on-${r}`));
    } else {
      on.push(await roundOn(`${prefix}-on-${r}`));
      off.push(await roundOff(`${prefix}-off-${r}`));
    }
    console.log(`round ${r + 1}: off ${off.at(-1)!.toFixed(0)} jobs/s, on ${on.at(-1)!.toFixed(0)} jobs/s`);
  }
  const sOn = stats(on);
  const sOff = stats(off);
  const ratio = sOn.median / sOff.median;
  const pairRatios = on.map((v, i) => v / off[i]!);
  console.log(`\nBullMQ no-op throughput, ${JOBS} jobs/round, concurrency ${CONCURRENCY}, ${ROUNDS} rounds`);
  console.log(`  anchor (instrumentation off): min ${sOff.min.toFixed(0)} / median ${sOff.median.toFixed(0)} / max ${sOff.max.toFixed(0)} jobs/s`);
  console.log(`  jobscope (instrumentation on): min ${sOn.min.toFixed(0)} / median ${sOn.median.toFixed(0)} / max ${sOn.max.toFixed(0)} jobs/s`);
  console.log(`  ratio on/off (medians): ${ratio.toFixed(3)}  (per round: ${pairRatios.map((x) => x.toFixed(3)).join(', ')}; target >= 0.9)`);
  writeResult({
    name: 'worker-overhead',
    title: 'Job worker overhead, instrumentation on / off',
    quick: opts.quick,
    rounds: ROUNDS,
    settings: { jobsPerRound: JOBS, concurrency: CONCURRENCY },
    figures: [
      makeFigure({
        id: '6',
        label: 'BullMQ no-op jobs with Jobscope (createJobWorker + ConnectorLogger)',
        unit: 'jobs/s',
        ours: on,
        anchor: off,
        anchorWhat: 'plain BullMQ Worker, same jobs',
        target: { op: '>=', value: 0.9, aim: 0.95 },
      }),
    ],
  });
  // Clean the events the "on" rounds wrote.
  const redis = new Redis(REDIS_URL);
  for (const pattern of [`{${prefix}}*`, `${prefix}*`]) {
    const keys = await redis.keys(pattern);
    if (keys.length > 0) await redis.unlink(...keys);
  }
  redis.disconnect();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
