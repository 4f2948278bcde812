/**
 * Memory at a steady 10k events/s (item 7): RSS of a pipeline process (status + metrics sinks)
 * and of a job-worker-like producer process (ConnectorLogger), both child processes sampled
 * every 100 ms from /proc, beside the anchor: an idle Node process with ioredis connected,
 * sampled alike in the same round. Also checks the publisher's buffer bound: the largest
 * `stats().buffered` seen (sampled every 10 ms in the producer) against `bufferMaxEvents`.
 * Each round starts fresh processes; the figure is the peak RSS after a 1 s warm-up.
 *
 * With a built `dist/` (`npm run build`; `BENCH_CODE=src` forces the TypeScript sources), the
 * pipeline is the deployed process itself, `node dist/src/cli/main.js pipeline` configured by
 * its environment, and the anchor a plain `node` with ioredis: no tsx in either. Without `dist/`
 * both run through tsx (bench/lib/pipeline-child.ts, bench/lib/idle-child.ts), which adds tens
 * of MB to each. The result says which (`settings.code`).
 *
 *   node --import tsx bench/memory.ts [--quick] [--rounds 5]
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { eventStreamKey } from '../src/events/index.js';
import { runOptions, sized } from './lib/args.js';
import { rssBytes, startChild, startNode, type BenchChild } from './lib/child.js';
import { codeKind } from './lib/code-root.js';
import { deleteKeys } from './lib/redis-keys.js';
import { makeFigure, writeResult } from './lib/result.js';

const opts = runOptions();
const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RATE = 10_000;
const STEADY_MS = sized(opts, 8000, 3000);
const WARMUP_MS = 1000;
const BUFFER_BOUND = 10_000;
const SINKS = ['status', 'metrics'];
const MB = 1024 * 1024;

interface Round {
  pipelineMb: number;
  producerMb: number;
  idleMb: number;
  maxBuffered: number;
  published: number;
  dropped: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The idle anchor without tsx: ioredis connected, pinging once a second. */
const IDLE_JS = `import { Redis } from 'ioredis';
const redis = new Redis(process.env.REDIS_URL);
await redis.ping();
const keepAlive = setInterval(() => void redis.ping().catch(() => undefined), 1000);
process.once('SIGTERM', () => { clearInterval(keepAlive); redis.disconnect(); process.exit(0); });
process.send({ type: 'ready' });`;

/** The pipeline process and the idle anchor, as deployed (dist) or through tsx (src). */
function startPair(prefix: string): { pipeline: BenchChild; idle: BenchChild } {
  if (codeKind === 'src') {
    return {
      pipeline: startChild('lib/pipeline-child.ts', { BENCH_PIPELINE: JSON.stringify({ redisUrl: URL, prefix, sinks: SINKS }) }),
      idle: startChild('lib/idle-child.ts', { REDIS_URL: URL }),
    };
  }
  const env = { REDIS_URL: URL, JOBSCOPE_PREFIX: prefix, JOBSCOPE_SINKS: SINKS.join(','), METRICS_PORT: '0' };
  return {
    pipeline: startNode(['dist/src/cli/main.js', 'pipeline'], env, 'jobscope pipeline (dist)'),
    idle: startNode(['--input-type=module', '-e', IDLE_JS], { REDIS_URL: URL }, 'idle node'),
  };
}

/** Ready when every sink's consumer group exists (the deployed process sends no messages). */
async function pipelineReady(prefix: string, pipeline: BenchChild): Promise<void> {
  if (codeKind === 'src') {
    await pipeline.next('ready', 60_000);
    return;
  }
  const redis = new Redis(URL);
  try {
    const deadline = performance.now() + 60_000;
    for (;;) {
      const groups = (await redis.xinfo('GROUPS', eventStreamKey({ prefix })).catch(() => [])) as unknown[][];
      if (SINKS.every((s) => groups.some((g) => g[1] === `sink:${s}`))) return;
      if (performance.now() > deadline || pipeline.child.exitCode !== null) throw new Error(`pipeline not ready\n${pipeline.stderr()}`);
      await sleep(50);
    }
  } finally {
    redis.disconnect();
  }
}

async function round(i: number): Promise<Round> {
  const prefix = `bench-mem-${randomBytes(4).toString('hex')}`;
  const { pipeline, idle } = startPair(prefix);
  const producer = startChild('lib/producer-child.ts', { BENCH_PRODUCER: JSON.stringify({ redisUrl: URL, prefix, rate: RATE, bufferMaxEvents: BUFFER_BOUND }) });
  try {
    await Promise.all([pipelineReady(prefix, pipeline), idle.next('ready', 60_000), producer.next('ready', 60_000)]);
    await sleep(WARMUP_MS);
    const peak = { pipeline: 0, producer: 0, idle: 0 };
    const end = performance.now() + STEADY_MS;
    while (performance.now() < end) {
      peak.pipeline = Math.max(peak.pipeline, rssBytes(pipeline.pid));
      peak.producer = Math.max(peak.producer, rssBytes(producer.pid));
      peak.idle = Math.max(peak.idle, rssBytes(idle.pid));
      await sleep(100);
    }
    const report = await producer.request({ type: 'report' }, 'report');
    const r: Round = {
      pipelineMb: peak.pipeline / MB,
      producerMb: peak.producer / MB,
      idleMb: peak.idle / MB,
      maxBuffered: Number(report.maxBuffered),
      published: Number(report.published),
      dropped: Number(report.dropped),
    };
    console.log(`round ${i + 1}: RSS pipeline ${r.pipelineMb.toFixed(0)} MB, producer ${r.producerMb.toFixed(0)} MB, idle ${r.idleMb.toFixed(0)} MB; max buffered ${r.maxBuffered}/${BUFFER_BOUND}; published ${r.published}, dropped ${r.dropped}`);
    return r;
  } finally {
    await Promise.all([producer.stop(), idle.stop()]);
    await pipeline.stop();
    await deleteKeys(URL, [`{${prefix}}*`, `${prefix}*`]);
  }
}

async function main(): Promise<void> {
  const rounds: Round[] = [];
  for (let i = 0; i < opts.rounds; i++) rounds.push(await round(i));
  const idle = rounds.map((r) => r.idleMb);
  const anchorWhat = codeKind === 'dist' ? 'idle Node + ioredis process' : 'idle Node + ioredis process (tsx)';
  writeResult({
    name: 'memory',
    title: 'RSS at a steady 10k events/s; publisher buffer bound',
    quick: opts.quick,
    rounds: opts.rounds,
    settings: { code: codeKind, pipelineProcess: codeKind === 'dist' ? 'node dist/src/cli/main.js pipeline' : 'bench/lib/pipeline-child.ts via tsx', rateEventsPerSec: RATE, steadyMs: STEADY_MS, warmupMs: WARMUP_MS, pipelineSinks: SINKS, bufferMaxEvents: BUFFER_BOUND },
    details: { rounds },
    figures: [
      makeFigure({ id: '7-pipeline', label: `pipeline process (${SINKS.join('+')}), peak RSS`, unit: 'MB', ours: rounds.map((r) => r.pipelineMb), anchor: idle, anchorWhat, target: { op: '<=', value: 150, aim: 100, on: 'ours' } }),
      makeFigure({ id: '7-worker', label: 'job-worker/logger process, peak RSS', unit: 'MB', ours: rounds.map((r) => r.producerMb), anchor: idle, anchorWhat }),
      makeFigure({
        id: '7-buffer',
        label: 'publisher stats().buffered, largest seen',
        unit: 'events',
        ours: rounds.map((r) => r.maxBuffered),
        anchor: rounds.map(() => BUFFER_BOUND),
        anchorWhat: 'configured bufferMaxEvents',
        target: { op: '<=', value: 1 },
      }),
    ],
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
