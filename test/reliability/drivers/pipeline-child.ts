/**
 * A pipeline process for the reliability scenarios, run with `node --import tsx`: the real
 * `jobscope pipeline` process code (runPipelineProcess) with the built-in sinks plus
 * `recording`, a sink that counts deliveries per event id in a Redis hash. Unlike the plain
 * test child, the recording sink's outage is switched from outside through a Redis key, so a
 * long-running process (the soak) can be faulted without a restart. Settings come as JSON in
 * RELIABILITY_CHILD: { countsKey, downKey?, delayMs? }, plus the usual environment
 * (REDIS_URL, JOBSCOPE_PREFIX, JOBSCOPE_SINKS, PIPELINE_*, FLUENTD_*, …). SIGTERM drains.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { runPipelineProcess } from '../../../src/cli/commands/pipeline.js';
import { loadPipelineConfig } from '../../../src/config/pipeline-config.js';
import { loadRedisConfig } from '../../../src/config/redis-config.js';
import { registerBuiltinSinks } from '../../../src/pipeline/builtin-sinks.js';
import { registerSinkFactory } from '../../../src/pipeline/sink-registry.js';
import { createTestSink } from '../../helpers/pipeline-test-sink.js';

interface ChildSettings {
  countsKey: string;
  /** While this key exists (on the recorder's Redis), the recording sink is down. */
  downKey?: string;
  delayMs?: number;
  /** Redis of the recording hash (default: REDIS_URL). The scenario that restarts Redis keeps it elsewhere. */
  recorderUrl?: string;
}

const settings = JSON.parse(process.env.RELIABILITY_CHILD ?? '{}') as ChildSettings;
const env = { METRICS_PORT: '0', JOBSCOPE_SINKS: 'recording', ...process.env };
const redisConfig = loadRedisConfig(env);
const recorder = new Redis(settings.recorderUrl ?? redisConfig.url, { maxRetriesPerRequest: null });
let down = false;
if (settings.downKey) {
  const downKey = settings.downKey;
  const poll = setInterval(() => {
    recorder.exists(downKey).then((n) => void (down = n > 0), () => undefined);
  }, 50);
  poll.unref();
}
registerBuiltinSinks();
registerSinkFactory('recording', () =>
  createTestSink({ name: 'recording', redis: recorder, countsKey: settings.countsKey, delayMs: settings.delayMs, down: () => down }),
);
const stopped = new Promise<string>((resolve) => {
  process.once('SIGTERM', () => resolve('SIGTERM'));
  process.once('SIGINT', () => resolve('SIGINT'));
});
// The soak reads memory after a full collection (the parent starts us with --expose-gc).
let collections = 0;
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  process.stdout.write(`reliability-child: collected ${++collections} ${JSON.stringify(process.memoryUsage())}\n`);
});
const logger = pino({ level: process.env.TEST_LOG ? 'debug' : 'info' }, process.stdout);
runPipelineProcess(loadPipelineConfig(env), redisConfig, { stdout: process.stdout, stderr: process.stderr, env }, { stopped, logger }).then(
  (code) => {
    recorder.disconnect();
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    recorder.disconnect();
    process.exitCode = 1;
  },
);
