import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { startApiServer, type ApiServerOptions } from '../../api/api-server.js';
import type { ApiLogger } from '../../api/api-options.js';
import { loadApiConfig, type ApiConfig } from '../../config/api-config.js';
import { loadRedisConfig, type RedisConfig } from '../../config/redis-config.js';
import type { CliIo } from '../commands.js';
import { runUntilStopped } from '../shutdown-signal.js';

const HELP = `Usage: jobscope api [--port <n>] [--host <addr>]

Serves the HTTP API, the live SSE stream, /metrics and the dashboard.
Environment: PORT (3000), HOST (0.0.0.0), REDIS_URL, JOBSCOPE_PREFIX,
JOBSCOPE_API_TOKEN or JOBSCOPE_API_ALLOW_ANONYMOUS=true, JOBSCOPE_JOB_TOKEN_SECRET,
JOBSCOPE_TRACE_URL_TEMPLATE, JOBSCOPE_SENTRY_URL_TEMPLATE, STUCK_THRESHOLD_MS,
STUCK_THRESHOLDS, QUEUE_WAIT_THRESHOLD_MS, SSE_KEEPALIVE_MS.
Stops cleanly on SIGTERM / SIGINT.
`;

/** `--port`/`--host` override the environment. */
function applyArgs(args: string[], config: ApiConfig): ApiConfig | string {
  const out = { ...config };
  for (let i = 0; i < args.length; i++) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === '--port' && value !== undefined && /^\d{1,5}$/.test(value) && Number(value) <= 65535) out.port = Number(value);
    else if (flag === '--host' && value !== undefined && value !== '') out.host = value;
    else return `jobscope api: unknown or invalid option "${flag ?? ''}"\n\n${HELP}`;
    i++;
  }
  return out;
}

/** Maps the API's configuration onto {@link startApiServer}'s options (shared with `jobscope start`). */
export function apiServerOptions(config: ApiConfig, redis: Redis, redisConfig: RedisConfig, logger: ApiLogger, metricsRegistry?: Registry): ApiServerOptions {
  return {
    redis,
    prefix: redisConfig.prefix,
    shards: redisConfig.shards,
    port: config.port,
    host: config.host,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    auth: { token: config.token, allowAnonymous: config.allowAnonymous, jobTokenSecret: config.jobTokenSecret, publicMetrics: config.publicMetrics },
    links: { traceUrlTemplate: config.traceUrlTemplate, sentryUrlTemplate: config.sentryUrlTemplate },
    stuck: {
      thresholds: { defaultMs: config.stuckThresholdMs, byService: config.stuckThresholdsByService },
      queueWaitThresholdMs: config.queueWaitThresholdMs,
      intervalMs: config.stuckCheckIntervalMs,
    },
    sse: { keepAliveMs: config.sseKeepAliveMs },
    insightsMaxJobs: config.insightsMaxJobs,
    logger,
    ...(metricsRegistry ? { metricsRegistry } : {}),
  };
}

/** `jobscope api`: starts the API and serves until SIGTERM/SIGINT, then drains. */
export async function run(args: string[], io: CliIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(HELP);
    return 0;
  }
  const redisConfig = loadRedisConfig(io.env);
  const config = applyArgs(args, loadApiConfig(io.env));
  if (typeof config === 'string') {
    io.stderr.write(config);
    return 2;
  }
  const redis = new Redis(redisConfig.url, { maxRetriesPerRequest: 3 });
  redis.on('error', (err: Error) => io.stderr.write(`jobscope api: redis: ${err.message}\n`));
  const log = (level: string) => (obj: object, msg?: string) => io.stderr.write(`${JSON.stringify({ level, msg, ...obj, err: (obj as { err?: Error }).err?.message })}\n`);
  const server = await startApiServer(apiServerOptions(config, redis, redisConfig, { warn: log('warn'), error: log('error') }));
  const auth = config.token ? 'token required' : 'ANONYMOUS access (JOBSCOPE_API_ALLOW_ANONYMOUS=true)';
  io.stdout.write(`jobscope api: listening on ${server.url} (${auth}); dashboard at ${server.url}/\n`);
  return runUntilStopped({ command: 'api', stderr: io.stderr, skipped: 'open requests and live streams are cut' }, async (received) => {
    const signal = await received;
    io.stdout.write(`jobscope api: ${signal}: draining (up to ${config.shutdownTimeoutMs} ms)\n`);
    await server.close();
    await redis.quit().catch(() => redis.disconnect());
    io.stdout.write('jobscope api: stopped\n');
    return 0;
  });
}
