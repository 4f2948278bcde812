import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { startApiServer, type ApiServer } from '../../api/api-server.js';
import { loadApiConfig } from '../../config/api-config.js';
import { loadLoggerConfig } from '../../config/logger-config.js';
import { loadPipelineConfig } from '../../config/pipeline-config.js';
import { loadRedisConfig } from '../../config/redis-config.js';
import { loadDemoConfig } from '../../config/worker-config.js';
import { flagSettings, type FlagSetting } from '../flag-settings.js';
import { createRateLimitedWarning, errorKey } from '../../logger/rate-limited-warning.js';
import { errorMessage, JobscopeError } from '../../errors.js';
import { createDemoProducer, type DemoProducer } from '../../jobs/demo-producer.js';
import { startDemoWorkers, type DemoWorkers } from '../../jobs/demo-workers.js';
import { loadPriceTable } from '../../jobs/price-table.js';
import { createPricing } from '../../jobs/pricing.js';
import { registerBuiltinSinks } from '../../pipeline/builtin-sinks.js';
import { createPipeline, type Pipeline } from '../../pipeline/pipeline.js';
import { createSinksFromConfig } from '../../pipeline/sink-registry.js';
import { resolveLocalRedis, type LocalRedis } from '../../start/local-redis.js';
import type { CliIo } from '../commands.js';
import { runUntilStopped, WORKERS_SKIPPED } from '../shutdown-signal.js';
import { apiServerOptions } from './api.js';

const USAGE = `Usage: jobscope start [--port <n>] [--rate <jobs/s>] [--workers <n>] [--no-demo]

Runs the whole stack on this machine, in one process: the pipeline (status + metrics sinks,
and Fluentd / OpenTelemetry / Sentry when configured), the API with the dashboard, and
simulated job workers fed by the demo producer.
Redis: REDIS_URL if set; else 127.0.0.1:6379; else a redis-server started here in a
temporary directory. Stops cleanly on Ctrl-C / SIGTERM.
  --port <n>       API and dashboard port (default: PORT, else 3000)
  --rate <jobs/s>  demo jobs per second (default: DEMO_RATE_PER_SEC, else 2)
  --workers <n>    simulated workers per demo queue (default 2)
  --no-demo        no demo workers or producer: pipeline and API only`;

interface StartParts {
  redis?: LocalRedis;
  client?: Redis;
  pipeline?: Pipeline;
  api?: ApiServer;
  workers?: DemoWorkers;
  producer?: DemoProducer;
}

/** How long a stop lets the pipeline take in what the workers wrote last, in ms. */
const PIPELINE_CATCH_UP_MS = 3000;

/**
 * Stops what runs, in reverse order of start: producer, workers, pipeline, API, Redis. Between
 * the workers and the pipeline, the pipeline gets up to PIPELINE_CATCH_UP_MS to deliver what the
 * workers wrote as they stopped (worker.stopped, jobs handed back): stopped at once it would
 * leave those pending until the next start claims them, and the dashboard would show the
 * workers busy meanwhile.
 */
async function stopAll(parts: StartParts): Promise<void> {
  await parts.producer?.stop();
  await parts.workers?.close('stack stopping');
  if (parts.workers && parts.pipeline) await pipelineCaughtUp(parts.pipeline, PIPELINE_CATCH_UP_MS);
  await parts.pipeline?.close();
  await parts.api?.close();
  parts.client?.disconnect();
  await parts.redis?.stop();
}

/** Resolves once every group has read and acknowledged everything (or after `ms`, or when the stats cannot be read). */
async function pipelineCaughtUp(pipeline: Pipeline, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const stats = await pipeline.refreshStats().catch(() => undefined);
    if (!stats || stats.groups.every((g) => g.lag === 0 && g.pending === 0)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    options: {
      port: { type: 'string' },
      rate: { type: 'string' },
      workers: { type: 'string' },
      'no-demo': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
}

/** `jobscope start`: the whole stack locally, until Ctrl-C. */
export async function run(args: string[], io: CliIo): Promise<number> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(args);
  } catch (err) {
    io.stderr.write(`jobscope start: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const parts: StartParts = {};
  const shutdown = {
    command: 'start',
    stderr: io.stderr,
    skipped: `${WORKERS_SKIPPED}; the pipeline's unacknowledged events are read again at the next start`,
    // A redis-server started here goes too (its data was for this run only).
    onForce: () => parts.redis?.stopNow(),
  };
  return runUntilStopped(shutdown, async (received) => {
    try {
      await startStack(values, io, parts);
      const signal = await received;
      io.stdout.write(`\njobscope start: ${signal}: stopping (producer, workers, pipeline, API)…\n`);
      await stopAll(parts);
      io.stdout.write('jobscope start: stopped\n');
      return 0;
    } catch (err) {
      await stopAll(parts).catch(() => undefined);
      throw err;
    }
  });
}

async function startStack(values: ReturnType<typeof parse>, io: CliIo, parts: StartParts): Promise<void> {
  const userRedis = loadRedisConfig(io.env);
  // Local use: without a token the API is open, but only on this machine (127.0.0.1).
  const local = io.env.JOBSCOPE_API_TOKEN ? {} : { JOBSCOPE_API_ALLOW_ANONYMOUS: 'true', JOBSCOPE_METRICS_PUBLIC: 'true', HOST: io.env.HOST ?? '127.0.0.1' };
  // A flag given empty is a bad value, as in `jobscope demo` (not the flag left out).
  const flags: FlagSetting[] = [
    ['--port', 'PORT', values.port],
    ['--rate', 'DEMO_RATE_PER_SEC', values.rate],
  ];
  // The flags checked before anything starts (a redis-server of our own included).
  const early = flagSettings({ ...io.env, ...local }, flags);
  early.load(loadApiConfig);
  early.load(loadDemoConfig);
  parts.redis = await resolveLocalRedis(userRedis.urlExplicit ? { explicitUrl: userRedis.url } : {});
  const settings = flagSettings({ ...io.env, ...local, REDIS_URL: parts.redis.url }, flags);
  const env = settings.env;
  const redisConfig = settings.load(loadRedisConfig);
  const pipelineConfig = settings.load(loadPipelineConfig);
  const apiConfig = settings.load(loadApiConfig);
  const demoConfig = settings.load(loadDemoConfig);
  const logger = pino({ name: 'jobscope', level: pipelineConfig.logLevel === 'info' ? 'warn' : pipelineConfig.logLevel });
  // The demo's errors, one line per kind per 10 s: Redis away fails every connection on each retry.
  const warn = createRateLimitedWarning({ sink: (message, fields) => logger.warn(fields, message) });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'jobscope_process_' });
  parts.client = new Redis(redisConfig.url, { maxRetriesPerRequest: null });

  registerBuiltinSinks();
  const sinks = await createSinksFromConfig(pipelineConfig.sinks, { env, redis: parts.client, prefix: redisConfig.prefix, metricsRegistry: registry, logger });
  parts.pipeline = createPipeline({
    redis: parts.client,
    prefix: redisConfig.prefix,
    shards: redisConfig.shards,
    sinks,
    consumerName: pipelineConfig.consumerName,
    batchSize: pipelineConfig.batchSize,
    blockMs: pipelineConfig.blockMs,
    maxDeliveries: pipelineConfig.maxDeliveries,
    claimIdleMs: pipelineConfig.claimIdleMs,
    retry: pipelineConfig.retry,
    breaker: pipelineConfig.breaker,
    shutdownTimeoutMs: pipelineConfig.shutdownTimeoutMs,
    metricsRegistry: registry,
    logger,
    trim: pipelineConfig.trim,
  });
  await parts.pipeline.start();
  parts.api = await startApiServer(apiServerOptions(apiConfig, parts.client, redisConfig, logger, registry));

  const demo = !values['no-demo'];
  const workersPerQueue = values.workers !== undefined ? Number(values.workers) : 2;
  if (demo) {
    const loggerConfig = loadLoggerConfig(env);
    // BullMQ keys follow the Jobscope prefix, so two stacks on one Redis do not share demo queues.
    const bull = demoConfig.bullPrefix ? { bullPrefix: demoConfig.bullPrefix } : redisConfig.prefix === 'jobscope' ? {} : { bullPrefix: `bull-${redisConfig.prefix}` };
    parts.workers = startDemoWorkers({
      connection: redisConfig.url,
      prefix: redisConfig.prefix,
      ...bull,
      workersPerQueue,
      heartbeatIntervalMs: demoConfig.heartbeatIntervalMs,
      pricing: createPricing(loadPriceTable(demoConfig.pricesFile ? { file: demoConfig.pricesFile } : {})),
      logger: { ...loggerConfig, stdout: false, env },
      // Jobscope's own errors say it all (e.g. jobs handed back at a stop); others keep their stack.
      onError: (err) => {
        const message = errorMessage(err);
        warn(`worker ${errorKey(message)}`, err instanceof JobscopeError ? `demo worker: ${err.message}` : 'demo worker error', err instanceof JobscopeError ? {} : { err });
      },
    });
    parts.producer = createDemoProducer({
      connection: redisConfig.url,
      prefix: redisConfig.prefix,
      ...bull,
      ratePerSec: demoConfig.demoRatePerSec,
      onError: (err) => warn(`producer ${errorKey(errorMessage(err))}`, 'demo producer could not enqueue', { err }),
    });
  }
  io.stdout.write(banner({ redis: parts.redis, sinks: pipelineConfig.sinks, apiUrl: parts.api.url, token: Boolean(io.env.JOBSCOPE_API_TOKEN), demo, workersPerQueue, rate: demoConfig.demoRatePerSec }));
}

function banner(o: { redis: LocalRedis; sinks: string[]; apiUrl: string; token: boolean; demo: boolean; workersPerQueue: number; rate: number }): string {
  const origin = { env: 'REDIS_URL', default: 'local default', spawned: 'started here, temporary, no persistence' }[o.redis.origin];
  const off = ['fluentd', 'otel', 'sentry'].filter((s) => !o.sinks.includes(s));
  const dashboard = o.apiUrl.replace('0.0.0.0', '127.0.0.1');
  return [
    '',
    'Jobscope is running',
    `  Redis       ${o.redis.url} (${origin})`,
    `  Pipeline    sinks on: ${o.sinks.join(', ')}${off.length ? `; off: ${off.join(', ')} (set FLUENTD_HOST, OTEL_EXPORTER_OTLP_ENDPOINT, SENTRY_DSN to turn on)` : ''}`,
    `  API         ${o.apiUrl}/api  (${o.token ? 'bearer token required' : 'open, local only: set JOBSCOPE_API_TOKEN to require a token'})`,
    `  Metrics     ${o.apiUrl}/metrics`,
    o.demo
      ? `  Demo        ${o.workersPerQueue} simulated worker(s) per queue, ${o.rate} job(s)/s from the demo producer`
      : '  Demo        off (--no-demo)',
    '',
    `  Dashboard → ${dashboard}/`,
    // The CLI's default API address is http://127.0.0.1:3000: elsewhere it must be told.
    `  CLI       → ${dashboard === 'http://127.0.0.1:3000' ? '' : `JOBSCOPE_API_URL=${dashboard} `}npx jobscope watch   (or: jobscope doctor, jobs, workers, errors, stats)`,
    '',
    'Ctrl-C stops everything (running jobs finish or go back to their queue, events are flushed); Ctrl-C again after a second exits at once.',
    '',
  ].join('\n');
}
