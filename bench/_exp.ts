import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Connector } from '../connectors/connector.js';
import { createJobWorker } from '../src/jobs/job-worker.js';
import { asBullConnection } from '../src/jobs/redis-connection.js';
import { ConnectorLogger } from '../src/logger/connector-logger.js';
import type { WorkerLogger } from '../src/jobs/worker-logger.js';
import type { JobLogger } from '../src/logger/types.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const JOBS = 3000;
const prefix = `jsexp-${randomBytes(4).toString('hex')}`;
const bullPrefix = `${prefix}-bull`;
const noop: Connector = { serviceType: 'simulated', name: 'noop', run: () => Promise.resolve({}) };
const nullJob = new Proxy({}, { get: (_t, p) => (p === 'traceparent' ? '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' : () => undefined) }) as JobLogger;
const nullLogger: WorkerLogger = { withJobContext: () => nullJob, workerStarted() {}, workerStopped() {}, startHeartbeats: () => () => {}, flush: async () => true };

async function fill(q: string) {
  const queue = new Queue(q, { connection: asBullConnection(new Redis(REDIS_URL, { maxRetriesPerRequest: null })), prefix: bullPrefix });
  const jobs = Array.from({ length: JOBS }, (_, i) => ({ name: 'noop', data: { i }, opts: { removeOnComplete: true } }));
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  return queue;
}
function timing(worker: Worker): Promise<number> {
  return new Promise((resolve) => {
    let first = 0, done = 0;
    worker.on('active', () => (first ||= performance.now()));
    worker.on('completed', () => { if (++done === JOBS) resolve(JOBS / ((performance.now() - first) / 1000)); });
  });
}
async function run(mode: string) {
  const q = `${prefix}-${mode}-${Math.random()}`;
  const queue = await fill(q);
  let rate: number;
  if (mode === 'off') {
    const c = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const w = new Worker(q, () => Promise.resolve(null), { connection: asBullConnection(c), prefix: bullPrefix, concurrency: 50 });
    rate = await timing(w); await w.close(); c.disconnect();
  } else if (mode === 'off3') {
    const c = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const w = new Worker(q, (_j, _t, _s) => Promise.resolve(null), { connection: asBullConnection(c), prefix: bullPrefix, concurrency: 50 });
    rate = await timing(w); await w.close(); c.disconnect();
  } else {
    const logger = mode === 'null' ? nullLogger : new ConnectorLogger({ machineId: 'b', workerId: 'b', serviceType: 'simulated', redis: REDIS_URL, prefix, stdout: false, level: 'silent', spoolMaxBytes: 0 });
    const jw = createJobWorker({ connection: REDIS_URL, queue: q, connector: noop, logger, concurrency: 50, prefix, bullPrefix, cancelRequests: mode !== 'nocancel' && mode !== 'null' });
    rate = await timing(jw.worker); await jw.close();
    if (logger instanceof ConnectorLogger) await logger.close();
  }
  await queue.obliterate({ force: true }); await queue.close();
  return rate;
}
const modes = process.argv.slice(2);
for (let r = 0; r < 2; r++) for (const m of modes) console.log(m, (await run(m)).toFixed(0));
const redis = new Redis(REDIS_URL);
for (const p of [`{${prefix}}*`, `${prefix}*`]) { const k = await redis.keys(p); if (k.length) await redis.unlink(...k); }
redis.disconnect();
