/**
 * A job-worker-like producer for the memory benchmark: a `ConnectorLogger` emitting job
 * lifecycles (received → started → progress → completed) at a steady rate. Settings as JSON in
 * BENCH_PRODUCER: `{ redisUrl, prefix, rate, bufferMaxEvents }`. Samples `stats().buffered`
 * every 10 ms and answers `{ type: 'report' }` with the largest value seen and the counters.
 * Sends `{ type: 'ready' }` once connected; SIGTERM flushes and exits.
 */
import { ConnectorLogger } from '../../src/logger/connector-logger.js';
import type { JobLogger } from '../../src/logger/types.js';

interface Settings {
  redisUrl: string;
  prefix: string;
  rate: number;
  bufferMaxEvents: number;
}

const s = JSON.parse(process.env.BENCH_PRODUCER ?? '{}') as Settings;
const logger = new ConnectorLogger({
  machineId: 'bench-machine',
  workerId: `worker-${process.pid}`,
  serviceType: 'comfyui',
  connectorId: 'comfyui-local',
  redis: s.redisUrl,
  prefix: s.prefix,
  stdout: false,
  level: 'silent',
  spoolMaxBytes: 0,
  bufferMaxEvents: s.bufferMaxEvents,
});
await logger.flush(10_000);
let maxBuffered = 0;
const sampler = setInterval(() => {
  maxBuffered = Math.max(maxBuffered, logger.stats().buffered);
}, 10);

let n = 0;
let job: JobLogger | undefined;
const start = performance.now();
/** One tick: the calls due by now at `rate`, as job lifecycles of 4 events. */
const ticker = setInterval(() => {
  const due = Math.floor(((performance.now() - start) / 1000) * s.rate);
  for (; n < due; n++) {
    const step = n % 4;
    if (step === 0) (job = logger.withJobContext(`job-${process.pid}-${n}`, { attempt: 1, queue: 'bench' })).jobReceived();
    else if (step === 1) job!.jobStarted();
    else if (step === 2) job!.jobProgress(50);
    else job!.jobCompleted({ durationMs: 5 });
    maxBuffered = Math.max(maxBuffered, logger.stats().buffered);
  }
}, 1);

process.on('message', (m: { type: string }) => {
  if (m.type === 'report') process.send!({ type: 'report', maxBuffered, bound: s.bufferMaxEvents, ...logger.stats() });
});
process.once('SIGTERM', () => {
  clearInterval(ticker);
  clearInterval(sampler);
  void logger.close(5000).finally(() => process.exit(0));
});
process.send!({ type: 'ready' });
