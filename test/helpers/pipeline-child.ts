/**
 * A pipeline process for crash and shutdown tests, run with `node --import tsx`. It is the real
 * `jobscope pipeline` process code (runPipelineProcess) with one extra sink, `recording`, that
 * counts deliveries per event id in a Redis hash. Settings come as JSON in PIPELINE_CHILD:
 * { countsKey, delayMs?, down? } plus the usual environment (REDIS_URL, JOBSCOPE_PREFIX,
 * PIPELINE_*). SIGTERM/SIGINT drain; the exit code is the command's.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { runPipelineProcess } from '../../src/cli/commands/pipeline.js';
import { loadPipelineConfig } from '../../src/config/pipeline-config.js';
import { loadRedisConfig } from '../../src/config/redis-config.js';
import { registerSinkFactory } from '../../src/pipeline/sink-registry.js';
import { createTestSink } from './pipeline-test-sink.js';

interface ChildSettings {
  countsKey: string;
  delayMs?: number;
  down?: boolean;
}

const settings = JSON.parse(process.env.PIPELINE_CHILD ?? '{}') as ChildSettings;
const env = { ...process.env, JOBSCOPE_SINKS: 'recording', METRICS_PORT: '0' };
const redisConfig = loadRedisConfig(env);
const recorder = new Redis(redisConfig.url);
registerSinkFactory('recording', () =>
  createTestSink({ name: 'recording', redis: recorder, countsKey: settings.countsKey, delayMs: settings.delayMs, down: () => settings.down === true }),
);
const stopped = new Promise<string>((resolve) => {
  process.once('SIGTERM', () => resolve('SIGTERM'));
  process.once('SIGINT', () => resolve('SIGINT'));
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
