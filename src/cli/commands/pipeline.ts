import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadPipelineConfig, type PipelineConfig } from '../../config/pipeline-config.js';
import { loadRedisConfig, type RedisConfig } from '../../config/redis-config.js';
import { createPipeline } from '../../pipeline/pipeline.js';
import { registerBuiltinSinks } from '../../pipeline/builtin-sinks.js';
import { startMetricsServer, type MetricsServer } from '../../pipeline/metrics-server.js';
import { createSinksFromConfig, registeredSinkNames } from '../../pipeline/sink-registry.js';
import type { CliIo } from '../commands.js';
import { runUntilStopped } from '../shutdown-signal.js';

const USAGE = `Usage: jobscope pipeline [--sinks <a,b,...>]

Runs a pipeline worker: one consumer-group loop per sink, reading the event stream and
forwarding events to the sinks; serves /metrics and /healthz on METRICS_PORT. Stops on
SIGTERM/SIGINT after finishing in-flight writes (PIPELINE_SHUTDOWN_TIMEOUT_MS).
  --sinks <list>  sinks to run (default: JOBSCOPE_SINKS, else status,metrics,sequence
                  plus fluentd/otel/sentry when configured)
Settings: REDIS_URL, JOBSCOPE_PREFIX, JOBSCOPE_SHARDS, JOBSCOPE_SINKS, PIPELINE_* , STREAM_MAX_LEN,
STREAM_MAX_AGE_MS, METRICS_PORT, LOG_LEVEL.`;

/** What a running pipeline process needs from its host (the real process, or a test). */
export interface PipelineProcessHost {
  /** Resolves with the signal name when the process is asked to stop. */
  stopped: Promise<string>;
  logger: Logger;
}

/**
 * Runs the pipeline until `host.stopped` resolves, then drains. Resolves 0 after a clean
 * drain, 1 when the deadline passed with writes still in flight.
 */
export async function runPipelineProcess(config: PipelineConfig, redisConfig: RedisConfig, io: CliIo, host: PipelineProcessHost): Promise<number> {
  const { logger } = host;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'jobscope_pipeline_' });
  const redis = new Redis(redisConfig.url, { maxRetriesPerRequest: null });
  let server: MetricsServer | undefined;
  try {
    const sinks = await createSinksFromConfig(config.sinks, { env: io.env, redis, prefix: redisConfig.prefix, metricsRegistry: registry, logger });
    const pipeline = createPipeline({
      redis,
      prefix: redisConfig.prefix,
      shards: redisConfig.shards,
      sinks,
      consumerName: config.consumerName,
      batchSize: config.batchSize,
      blockMs: config.blockMs,
      maxDeliveries: config.maxDeliveries,
      claimIdleMs: config.claimIdleMs,
      retry: config.retry,
      breaker: config.breaker,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      metricsRegistry: registry,
      logger,
      trim: config.trim,
    });
    await pipeline.start();
    if (config.metricsPort > 0) {
      server = await startMetricsServer({
        registry,
        port: config.metricsPort,
        health: () => {
          const s = pipeline.status();
          const ok = s.state === 'running' && redis.status === 'ready';
          return { ok, state: s.state, redis: redis.status, sinks: s.sinks.map((x) => ({ sink: x.sink, breaker: x.breaker, lag: x.lag })) };
        },
      });
      logger.info({ port: server.port }, 'serving /metrics and /healthz');
    }
    const signal = await host.stopped;
    logger.info({ signal }, 'stopping: finishing in-flight writes');
    await pipeline.close();
    return pipeline.status().drained === false ? 1 : 0;
  } finally {
    await server?.close();
    redis.disconnect();
  }
}

/** `jobscope pipeline`: runs a pipeline worker until SIGTERM/SIGINT. */
export async function run(args: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { sinks: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    io.stderr.write(`jobscope: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  registerBuiltinSinks();
  if (values.help) {
    io.stdout.write(`${USAGE}\nRegistered sinks: ${registeredSinkNames().join(', ')}\n`);
    return 0;
  }
  const env = values.sinks === undefined ? io.env : { ...io.env, JOBSCOPE_SINKS: values.sinks };
  const config = loadPipelineConfig(env);
  const redisConfig = loadRedisConfig(env);
  const logger = pino({ name: 'jobscope-pipeline', level: config.logLevel }, io.stdout);
  const skipped = 'events read but not yet acknowledged stay pending in the stream, and the next pipeline process claims them';
  return runUntilStopped({ command: 'pipeline', stderr: io.stderr, skipped }, (received) => runPipelineProcess(config, redisConfig, { ...io, env }, { stopped: received, logger }));
}
