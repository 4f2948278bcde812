/**
 * Scaling (item 8): pipeline throughput with 1, 2 and 4 pipeline processes sharing the consumer
 * groups (one consumer each, real child processes: bench/lib/pipeline-child.ts). Each round
 * appends N events (pipelined XADD) and times until every group has no lag and nothing pending
 * (XINFO GROUPS). Events are job lifecycles (bench/lib/lifecycle-events.ts). Anchor: the 1-process figure of the same round. The processes of a set live
 * across its rounds (their start-up is not measured).
 *
 *   node --import tsx bench/pipeline-scaling.ts [--quick] [--rounds 5] [--sinks null]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { encodeEntry, eventStreamKey } from '../src/events/index.js';
import { runOptions, sized } from './lib/args.js';
import { startChild, type BenchChild } from './lib/child.js';
import { lifecycleEvent } from './lib/lifecycle-events.js';
import { deleteKeys } from './lib/redis-keys.js';
import { makeFigure, writeResult, type Figure } from './lib/result.js';

const opts = runOptions();
const { values } = parseArgs({ options: { sinks: { type: 'string', default: 'null' }, quick: { type: 'boolean' }, rounds: { type: 'string' } } });
const SINKS = values.sinks.split(',').filter(Boolean);
const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = sized(opts, 20_000, 5_000);
const PROCESSES = [1, 2, 4];

/** True when every group of the stream has consumed everything and acknowledged it. */
async function drained(redis: Redis, stream: string): Promise<boolean> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  if (groups.length < SINKS.length) return false;
  return groups.every((g) => {
    const f = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
    return Number(f.get('pending')) === 0 && Number(f.get('lag')) === 0;
  });
}

async function measureSet(redis: Redis, processes: number): Promise<number[]> {
  const prefix = `bench-scale-${randomBytes(4).toString('hex')}`;
  const stream = eventStreamKey({ prefix });
  const children: BenchChild[] = [];
  for (let p = 0; p < processes; p++) {
    children.push(startChild('lib/pipeline-child.ts', { BENCH_PIPELINE: JSON.stringify({ redisUrl: URL, prefix, sinks: SINKS, consumerName: `bench-${p}` }) }));
  }
  try {
    await Promise.all(children.map((c) => c.next('ready', 60_000)));
    const out: number[] = [];
    for (let r = 0; r <= opts.rounds; r++) {
      const t0 = performance.now();
      for (let start = 0; start < N; start += 1000) {
        const pipe = redis.pipeline();
        for (let i = start; i < Math.min(N, start + 1000); i++) pipe.xadd(stream, '*', ...encodeEntry(lifecycleEvent(i, `${r}-`)));
        await pipe.exec();
      }
      while (!(await drained(redis, stream))) await new Promise((res) => setTimeout(res, 10));
      const perSec = N / ((performance.now() - t0) / 1000);
      if (r > 0) out.push(perSec); // round 0 warms up
      console.log(`${processes} process(es), ${r === 0 ? 'warm-up' : `round ${r}`}: ${Math.round(perSec)} events/s`);
    }
    return out;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    await deleteKeys(URL, [`{${prefix}}*`]);
  }
}

async function main(): Promise<void> {
  const redis = new Redis(URL);
  try {
    const byCount = new Map<number, number[]>();
    for (const p of PROCESSES) byCount.set(p, await measureSet(redis, p));
    const one = byCount.get(1)!;
    const figures: Figure[] = PROCESSES.filter((p) => p > 1).map((p) =>
      makeFigure({
        id: `8-${p}p`,
        label: `${p} pipeline processes sharing the groups (sinks ${SINKS.join('+')})`,
        unit: 'events/s',
        ours: byCount.get(p)!,
        anchor: one,
        anchorWhat: '1 pipeline process',
      }),
    );
    writeResult({
      name: 'pipeline-scaling',
      title: 'Pipeline throughput with 1, 2, 4 processes',
      quick: opts.quick,
      rounds: opts.rounds,
      settings: { events: N, sinks: SINKS, processes: PROCESSES },
      details: { eventsPerSec: Object.fromEntries(byCount) },
      figures,
    });
  } finally {
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
