import { parseArgs } from 'node:util';
import { assertConnectorName, CONNECTOR_NAMES, createConnector } from '../../../connectors/registry.js';
import { loadLoggerConfig } from '../../config/logger-config.js';
import { loadRedisConfig } from '../../config/redis-config.js';
import { loadWorkerConfig, type WorkerConfig } from '../../config/worker-config.js';
import { createJobWorker } from '../../jobs/job-worker.js';
import { loadPriceTable } from '../../jobs/price-table.js';
import { createPricing } from '../../jobs/pricing.js';
import { ConnectorLogger } from '../../logger/connector-logger.js';
import type { Connector } from '../../../connectors/connector.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { registerPublisherMetrics } from '../../jobs/publisher-metrics.js';
import { startMetricsServer, type MetricsServer } from '../../pipeline/metrics-server.js';
import type { CliIo } from '../commands.js';
import { errorMessage } from '../../errors.js';
import { flagSettings } from '../flag-settings.js';
import { redactUrl } from '../redact-url.js';
import { createRateLimitedWarning, errorKey } from '../../logger/rate-limited-warning.js';
import type { Attrs } from '../../events/index.js';
import type { PublisherStats } from '../../logger/types.js';
import { runUntilStopped, WORKERS_SKIPPED } from '../shutdown-signal.js';

const USAGE = `Usage: jobscope worker --connector <name> [--queue <name>] [--concurrency <n>]

Runs a BullMQ job worker that reports every job's lifecycle, usage and cost to Jobscope.
Stops on SIGTERM/SIGINT: takes no new jobs, lets running ones finish within
WORKER_SHUTDOWN_TIMEOUT_MS (then hands them back to the queue), flushes the events.
  --connector <name>  ${CONNECTOR_NAMES.join(' | ')}
  --queue <name>      BullMQ queue (default: JOBSCOPE_QUEUE, else "jobs")
  --concurrency <n>   jobs at once (default: WORKER_CONCURRENCY, else 4)
Cancel a job with JobProducer.cancel(jobId): a Redis cancel request the worker hears.
Settings: REDIS_URL, JOBSCOPE_PREFIX, JOBSCOPE_QUEUE, WORKER_CONCURRENCY, HEARTBEAT_INTERVAL_MS,
WORKER_SHUTDOWN_TIMEOUT_MS, OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL, OPENAI_TIMEOUT_MS, COMFYUI_URL,
JOBSCOPE_PRICES_FILE, MACHINE_ID, WORKER_ID, CONNECTOR_ID, LOG_LEVEL, JOBSCOPE_SPOOL_DIR.`;

/** After this long without Redis the worker says it waits for it, in ms. */
const SLOW_START_MS = 3000;

function connectorFor(name: string, c: WorkerConfig): Connector {
  return createConnector(name, {
    openai: { ...(c.openaiBaseUrl ? { baseUrl: c.openaiBaseUrl } : {}), ...(c.openaiApiKey ? { apiKey: c.openaiApiKey } : {}), model: c.openaiModel, timeoutMs: c.openaiTimeoutMs },
    comfyui: c.comfyuiUrl ? { baseUrl: c.comfyuiUrl } : {},
  });
}

async function startWorkerHealth(port: number, logger: ConnectorLogger): Promise<MetricsServer> {
  const health = createWorkerHealth();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'jobscope_worker_' });
  registerPublisherMetrics(registry, () => logger.stats());
  return startMetricsServer({
    registry,
    port,
    what: "the worker's health server",
    portSetting: 'PORT (0 turns it off)',
    health: () => health(logger.stats()),
  });
}

/** How long after events were last dropped the worker counts as losing them (for /healthz). */
export const DROP_RECENT_MS = 60_000;

/**
 * The worker's /healthz: unhealthy only while events are being lost, that is Redis is away and
 * events were dropped within {@link DROP_RECENT_MS} (Redis being away is what the spool is for). A
 * drop long past does not make every later Redis blip unhealthy.
 */
export function createWorkerHealth(now: () => number = Date.now): (s: PublisherStats) => { ok: boolean; [key: string]: unknown } {
  let seenDropped = 0;
  let droppedAt = Number.NEGATIVE_INFINITY;
  return (s) => {
    if (s.dropped > seenDropped) {
      seenDropped = s.dropped;
      droppedAt = now();
    }
    const losing = now() - droppedAt < DROP_RECENT_MS;
    return { ok: s.connected || !losing, connected: s.connected, buffered: s.buffered, spoolPending: s.spoolPending, dropped: s.dropped };
  };
}

/** What a stop left undelivered (Redis away), and where it is. */
function undelivered(s: PublisherStats, spoolDir: string, identity: { machineId: string; workerId: string }): string {
  const parts: string[] = [];
  if (s.spoolPending > 0) {
    parts.push(
      `${s.spoolPending} event(s) wait in the spool (${spoolDir}): a worker started again with that spool as MACHINE_ID=${identity.machineId} WORKER_ID=${identity.workerId} sends them once Redis answers`,
    );
  }
  const lost = s.buffered + s.dropped;
  if (lost > 0) parts.push(`${lost} event(s) were lost (no room in memory or in the spool)`);
  return `stopped before Redis took every event${parts.length > 0 ? `: ${parts.join('; ')}` : ''}`;
}

/**
 * Runs a job worker until `stopped` resolves, then shuts it down. Resolves 0 after a clean
 * stop. Exported for tests, which pass their own environment and stop promise.
 */
export async function runWorkerProcess(connectorName: string, io: CliIo, stopped: Promise<string>): Promise<number> {
  const config = loadWorkerConfig(io.env);
  const redisConfig = loadRedisConfig(io.env);
  const loggerConfig = loadLoggerConfig(io.env);
  const pricing = createPricing(loadPriceTable(config.pricesFile ? { file: config.pricesFile } : {}));
  const connector = connectorFor(connectorName, config);
  const logger = new ConnectorLogger({ ...loggerConfig, env: io.env, serviceType: connector.serviceType, redis: redisConfig.url, prefix: redisConfig.prefix, shards: redisConfig.shards });
  /** The last call after the worker's close (what is left goes to the spool); says what was not delivered. */
  async function closeLogger(): Promise<boolean> {
    const drained = await logger.close(1000);
    if (!drained) io.stderr.write(`jobscope worker: ${undelivered(logger.stats(), loggerConfig.spoolDir, logger.identity)}\n`);
    return drained;
  }
  const warnError = createRateLimitedWarning({ sink: (message, fields) => logger.log('warn', message, fields as Attrs) });
  let lastError = '';
  const worker = createJobWorker({
    connection: redisConfig.url,
    queue: config.queue,
    connector,
    logger,
    concurrency: config.concurrency,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    prefix: redisConfig.prefix,
    ...(config.bullPrefix ? { bullPrefix: config.bullPrefix } : {}),
    pricing,
    onError: (err) => {
      lastError = errorMessage(err);
      // Redis away makes every connection fail on each retry: one line per kind of error per 10 s.
      warnError(errorKey(lastError), `worker error: ${lastError}`);
    },
  });
  // Said once when the start takes long: the worker waits for Redis (its BullMQ and cancel connections).
  const slowStart = setTimeout(() => {
    io.stderr.write(`jobscope worker: waiting for Redis at ${redactUrl(redisConfig.url)}${lastError ? ` (${lastError})` : ''}; start Redis or fix REDIS_URL (Ctrl-C stops)\n`);
  }, SLOW_START_MS);
  // A stop asked for while Redis is not there yet (the worker waits for it) is not put off.
  let early: string | undefined;
  try {
    early = await Promise.race([worker.ready.then(() => undefined), stopped]);
  } catch (err) {
    // BullMQ could not start (a Redis that refuses its commands): stop what did start, say why.
    io.stderr.write(`jobscope worker: cannot start on Redis at ${redactUrl(redisConfig.url)}: ${errorMessage(err)}\njobscope worker: stopping\n`);
    await worker.close('start failed');
    await closeLogger();
    return 1;
  } finally {
    clearTimeout(slowStart);
  }
  // Railway (and any orchestrator) health-checks PORT: /healthz while the worker runs, /metrics for the publisher.
  let server: MetricsServer | undefined;
  try {
    server = early === undefined && config.healthPort > 0 ? await startWorkerHealth(config.healthPort, logger) : undefined;
  } catch (err) {
    // The worker already takes jobs: stop it as a signal would (running jobs finish or go back),
    // or it would run on without its health check, and the process would not end.
    io.stderr.write(`jobscope worker: ${(err as Error).message}\njobscope worker: stopping (running jobs finish within ${config.shutdownTimeoutMs} ms)\n`);
    await worker.close('health server failed');
    await closeLogger();
    return 1;
  }
  if (early === undefined) {
    io.stderr.write(`jobscope worker: ${connectorName} on queue "${config.queue}" (concurrency ${config.concurrency}) as ${logger.identity.machineId}/${logger.identity.workerId}\n`);
  }
  const signal = early ?? (await stopped);
  io.stderr.write(`jobscope worker: ${signal}, finishing running jobs (up to ${config.shutdownTimeoutMs} ms)\n`);
  await worker.close(signal);
  // The worker's close gave the flush its time already.
  const drained = await closeLogger();
  await server?.close();
  return drained ? 0 : 1;
}

/** `jobscope worker`: runs a job worker until SIGTERM/SIGINT. */
export async function run(args: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { connector: { type: 'string' }, queue: { type: 'string' }, concurrency: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    io.stderr.write(`jobscope: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const settings = flagSettings(io.env, [
    ['--connector', 'JOBSCOPE_CONNECTOR', values.connector],
    ['--queue', 'JOBSCOPE_QUEUE', values.queue],
    ['--concurrency', 'WORKER_CONCURRENCY', values.concurrency],
  ]);
  // Checked here, before anything starts, so that a bad value names what the user typed.
  const config = settings.load(loadWorkerConfig);
  const connectorName = config.connector;
  if (!connectorName) {
    io.stderr.write(`jobscope: --connector (or JOBSCOPE_CONNECTOR) is required\n\n${USAGE}\n`);
    return 2;
  }
  assertConnectorName(connectorName, values.connector !== undefined ? '--connector' : 'JOBSCOPE_CONNECTOR');
  const env = settings.env;
  return runUntilStopped({ command: 'worker', stderr: io.stderr, skipped: WORKERS_SKIPPED }, (received) => runWorkerProcess(connectorName, { ...io, env }, received));
}
