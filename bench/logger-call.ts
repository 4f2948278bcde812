/**
 * Cost of one `jobCompleted` call (event built, buffered for Redis, JSON line written) beside
 * its anchor: a bare pino `info` with the same fields, to the same async /dev/null destination.
 * The publisher is connected to the local Redis; flushes run in the background between chunks
 * of calls (only the calls themselves are timed). Prints ns/call and the ratio, min/median/max
 * over the rounds, and writes bench/results/logger-call.json (common shape, bench/lib/result.ts).
 *
 *   node --import tsx bench/logger-call.ts [--quick] [--rounds 5]
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { ConnectorLogger } from '../src/logger/connector-logger.js';
import { runOptions, sized } from './lib/args.js';
import { makeFigure, writeResult } from './lib/result.js';
import { deleteKeys } from './lib/redis-keys.js';

const opts = runOptions();
const ROUNDS = opts.rounds;
const CHUNKS = sized(opts, 50, 20);
const CHUNK = 1000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const dest = pino.destination({ dest: '/dev/null', sync: false });
const prefix = `jsbench-${randomBytes(4).toString('hex')}`;
const logger = new ConnectorLogger({
  machineId: 'railway-comfyui-01',
  workerId: 'worker-001',
  serviceType: 'comfyui',
  connectorId: 'comfyui-local',
  redis: REDIS_URL,
  prefix,
  destination: dest,
  spoolMaxBytes: 0,
  bufferMaxEvents: 1_000_000,
  bufferMaxBytes: 1024 * 1024 * 1024,
});
const job = logger.withJobContext('job-123456', { attempt: 1, queue: 'images' });
job.jobStarted();

const anchor = pino({ base: null }, dest);
const fields = {
  machine_id: 'railway-comfyui-01',
  worker_id: 'worker-001',
  service_type: 'comfyui',
  connector_id: 'comfyui-local',
  job_id: 'job-123456',
  attempt: 1,
  trace_id: job.traceId,
  span_id: job.spanId,
  event_type: 'job.completed',
  event_id: '019a1b2c-3d4e-7f60-8a1b-2c3d4e5f6a7b',
  seq: 1,
  data: { durationMs: 1234, outputCount: 2, outputSize: 1048576 },
};

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** Times `CHUNKS * CHUNK` calls, yielding between chunks so background work can run. */
async function measure(call: () => void): Promise<number> {
  let ns = 0n;
  for (let c = 0; c < CHUNKS; c++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CHUNK; i++) call();
    ns += process.hrtime.bigint() - t0;
    await yieldToLoop();
  }
  return Number(ns) / (CHUNKS * CHUNK);
}

const ours = () => job.jobCompleted({ durationMs: 1234, outputCount: 2, outputSize: 1048576 });
const bare = () => anchor.info(fields, 'job.completed');

async function main(): Promise<void> {
  await logger.flush(5000);
  await measure(bare); // warm-up
  await measure(ours);
  await logger.flush(10_000);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const x = await measure(bare);
    const y = await measure(ours);
    await logger.flush(60_000);
    a.push(x);
    b.push(y);
  }
  const publisher = logger.stats();
  writeResult({
    name: 'logger-call',
    title: 'jobCompleted call cost vs bare pino',
    quick: opts.quick,
    rounds: ROUNDS,
    settings: { callsPerRound: CHUNKS * CHUNK },
    figures: [
      makeFigure({
        id: '1',
        label: 'jobCompleted call',
        unit: 'ns/call',
        ours: b,
        anchor: a,
        anchorWhat: 'bare pino info, same fields, async /dev/null',
        target: { op: '<=', value: 1.5, aim: 1.2 },
      }),
    ],
    details: { publisher },
  });
  console.log(`published ${publisher.published}/${publisher.accepted}, dropped ${publisher.dropped}`);
}

try {
  await main();
} finally {
  await logger.close(10_000);
  await deleteKeys(REDIS_URL, [`{${prefix}}*`]);
  dest.flushSync();
}
