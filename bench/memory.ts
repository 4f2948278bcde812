/**
 * Memory at a steady 10k events/s (item 7): RSS of a pipeline process (status + metrics sinks)
 * and of a job-worker-like producer process (ConnectorLogger), both child processes sampled
 * every 100 ms from /proc, beside the anchor: an idle Node process with ioredis connected,
 * sampled alike in the same round. Also checks the publisher's buffer bound: the largest
 * `stats().buffered` seen (sampled every 10 ms in the producer) against `bufferMaxEvents`.
 * Each round starts fresh processes; the figure is the peak RSS after a 1 s warm-up.
 *
 *   node --import tsx bench/memory.ts [--quick] [--rounds 5]
 */
import { randomBytes } from 'node:crypto';
import { runOptions, sized } from './lib/args.js';
import { rssBytes, startChild } from './lib/child.js';
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

async function round(i: number): Promise<Round> {
  const prefix = `bench-mem-${randomBytes(4).toString('hex')}`;
  const pipeline = startChild('lib/pipeline-child.ts', { BENCH_PIPELINE: JSON.stringify({ redisUrl: URL, prefix, sinks: SINKS }) });
  const idle = startChild('lib/idle-child.ts', { REDIS_URL: URL });
  const producer = startChild('lib/producer-child.ts', { BENCH_PRODUCER: JSON.stringify({ redisUrl: URL, prefix, rate: RATE, bufferMaxEvents: BUFFER_BOUND }) });
  try {
    await Promise.all([pipeline.next('ready', 60_000), idle.next('ready', 60_000), producer.next('ready', 60_000)]);
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
  const anchorWhat = 'idle Node + ioredis process';
  writeResult({
    name: 'memory',
    title: 'RSS at a steady 10k events/s; publisher buffer bound',
    quick: opts.quick,
    rounds: opts.rounds,
    settings: { rateEventsPerSec: RATE, steadyMs: STEADY_MS, warmupMs: WARMUP_MS, pipelineSinks: SINKS, bufferMaxEvents: BUFFER_BOUND },
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
