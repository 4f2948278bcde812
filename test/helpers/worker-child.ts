/**
 * A job worker in a child process, for tests that kill it (SIGKILL mid-job) or stop it
 * (SIGTERM). Run: `node --import tsx test/helpers/worker-child.ts`. Settings come from the
 * environment: REDIS_URL, JOBSCOPE_PREFIX, BULL_PREFIX, JOBSCOPE_QUEUE, WORKER_ID,
 * LOCK_DURATION_MS, STALLED_INTERVAL_MS, SHUTDOWN_TIMEOUT_MS, LATENCY_MS (job run time, default 50),
 * PROGRESS_STEPS (default 5). Prints `ready` once it takes
 * jobs and `active <jobId>` when a job starts; exits 0 after a clean SIGTERM shutdown.
 */
import { createSimulatedConnector } from '../../connectors/simulated.js';
import { createJobWorker } from '../../src/jobs/job-worker.js';
import { ConnectorLogger } from '../../src/logger/connector-logger.js';

const env = process.env;
const prefix = env.JOBSCOPE_PREFIX ?? 'jobscope';
const latencyMs = Number(env.LATENCY_MS ?? 50);
const logger = new ConnectorLogger({
  machineId: 'child-machine',
  workerId: env.WORKER_ID ?? 'child-worker',
  serviceType: 'simulated',
  connectorId: 'simulated-child',
  redis: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix,
  stdout: false,
  level: 'silent',
  spoolMaxBytes: 0,
});
const worker = createJobWorker({
  connection: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  queue: env.JOBSCOPE_QUEUE ?? 'jobs',
  connector: createSimulatedConnector({ seed: 1, latencyMs: { min: latencyMs, max: latencyMs }, progressSteps: Number(env.PROGRESS_STEPS ?? 5) }),
  logger,
  concurrency: 2,
  heartbeatIntervalMs: 200,
  shutdownTimeoutMs: Number(env.SHUTDOWN_TIMEOUT_MS ?? 5000),
  prefix,
  ...(env.BULL_PREFIX ? { bullPrefix: env.BULL_PREFIX } : {}),
  workerOptions: {
    lockDuration: Number(env.LOCK_DURATION_MS ?? 30_000),
    stalledInterval: Number(env.STALLED_INTERVAL_MS ?? 30_000),
  },
});
worker.worker.on('active', (job) => process.stdout.write(`active ${job.id}\n`));
process.once('SIGTERM', () => {
  void worker
    .close('SIGTERM')
    .then(() => logger.close())
    .then(() => process.exit(0));
});
void worker.ready.then(() => process.stdout.write('ready\n'));
