/**
 * Cost of one `jobCompleted` call (event built, buffered for Redis, JSON line written) beside
 * its anchor: a bare pino `info` with the same fields, to the same async /dev/null destination.
 * The publisher is connected to the local Redis; flushes run in the background between chunks
 * of calls (only the calls themselves are timed). Prints ns/call and the ratio, min/median/max
 * over the rounds, and writes bench/results/logger-call.json.
 *
 *   node --import tsx bench/logger-call.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { ConnectorLogger } from '../src/logger/connector-logger.js';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const CHUNKS = 50;
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

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor(s.length / 2)]!, max: s.at(-1)! };
};

async function main(): Promise<void> {
  await logger.flush(5000);
  await measure(bare); // warm-up
  await measure(ours);
  await logger.flush(10_000);
  const a: number[] = [];
  const b: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const x = await measure(bare);
    const y = await measure(ours);
    await logger.flush(60_000);
    a.push(x);
    b.push(y);
    r.push(y / x);
  }
  const result = {
    name: 'logger-call',
    unit: 'ns/call',
    rounds: ROUNDS,
    callsPerRound: CHUNKS * CHUNK,
    anchor: { what: 'bare pino info, same fields, async /dev/null', ...stats(a) },
    jobCompleted: stats(b),
    ratio: stats(r),
    publisher: logger.stats(),
  };
  const f = (n: number) => n.toFixed(0).padStart(6);
  console.log(`anchor  pino.info     ns/call  min ${f(result.anchor.min)}  median ${f(result.anchor.median)}  max ${f(result.anchor.max)}`);
  console.log(`ours    jobCompleted  ns/call  min ${f(result.jobCompleted.min)}  median ${f(result.jobCompleted.median)}  max ${f(result.jobCompleted.max)}`);
  console.log(`ratio   ours/anchor   min ${result.ratio.min.toFixed(2)}x  median ${result.ratio.median.toFixed(2)}x  max ${result.ratio.max.toFixed(2)}x  (target <= 1.5x)`);
  console.log(`published ${result.publisher.published}/${result.publisher.accepted}, dropped ${result.publisher.dropped}`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/logger-call.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
}

try {
  await main();
} finally {
  await logger.close(10_000);
  const redis = new Redis(REDIS_URL);
  for (const pattern of [`{${prefix}}*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  }
  redis.disconnect();
  dest.flushSync();
}
