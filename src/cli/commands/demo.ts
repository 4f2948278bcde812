import { parseArgs } from 'node:util';
import { loadLoggerConfig } from '../../config/logger-config.js';
import { loadRedisConfig } from '../../config/redis-config.js';
import { loadDemoConfig } from '../../config/worker-config.js';
import { errorMessage } from '../../errors.js';
import { flagSettings } from '../flag-settings.js';
import { createRateLimitedWarning, errorKey } from '../../logger/rate-limited-warning.js';
import { DEMO_QUEUES } from '../../jobs/demo-mix.js';
import { createDemoProducer } from '../../jobs/demo-producer.js';
import { startDemoWorkers, type DemoWorkers } from '../../jobs/demo-workers.js';
import { loadPriceTable } from '../../jobs/price-table.js';
import { createPricing } from '../../jobs/pricing.js';
import type { CliIo } from '../commands.js';
import { runUntilStopped, WORKERS_SKIPPED } from '../shutdown-signal.js';

const USAGE = `Usage: jobscope demo [--rate <jobs/s>] [--workers <n>] [--seed <n>]

Enqueues a continuous, realistic mix of jobs on the demo queues (demo-images: ComfyUI-like
image jobs priced by GPU-seconds; demo-chat: LLM chat jobs over several models), with
failures, retries with backoff, slow and stuck jobs. Prints progress every 5 s; stops on
SIGTERM/SIGINT.
  --rate <jobs/s>  jobs enqueued per second (default: DEMO_RATE_PER_SEC, else 2)
  --workers <n>    also run n simulated workers per demo queue in this process (default 0)
  --seed <n>       seed of the job mix (default random)
Settings: REDIS_URL, JOBSCOPE_PREFIX, BULLMQ_PREFIX, DEMO_RATE_PER_SEC, JOBSCOPE_PRICES_FILE,\nHEARTBEAT_INTERVAL_MS.`;

/** Runs the demo until `stopped` resolves. Exported for tests. */
export async function runDemo(options: { workers: number; seed?: number; bullPrefix?: string }, io: CliIo, stopped: Promise<string>): Promise<number> {
  const bull = options.bullPrefix ? { bullPrefix: options.bullPrefix } : {};
  const config = loadDemoConfig(io.env);
  const redisConfig = loadRedisConfig(io.env);
  let workers: DemoWorkers | undefined;
  // Redis away fails every connection on each retry: one line per kind of error per 10 s.
  const warn = createRateLimitedWarning({ sink: (message, fields) => io.stderr.write(`${message}${fields.suppressed ? ` (and ${String(fields.suppressed)} more like it)` : ''}\n`) });
  if (options.workers > 0) {
    const loggerConfig = loadLoggerConfig(io.env);
    workers = startDemoWorkers({
      connection: redisConfig.url,
      prefix: redisConfig.prefix,
      workersPerQueue: options.workers,
      ...bull,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      pricing: createPricing(loadPriceTable(config.pricesFile ? { file: config.pricesFile } : {})),
      logger: { ...loggerConfig, stdout: false, env: io.env },
      onError: (err) => {
        const message = errorMessage(err);
        warn(errorKey(message), `jobscope demo: worker error: ${message}`);
      },
    });
  }
  let lastError = '';
  const producer = createDemoProducer({
    connection: redisConfig.url,
    prefix: redisConfig.prefix,
    ratePerSec: config.demoRatePerSec,
    ...bull,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    onError: (err) => (lastError = errorMessage(err)),
  });
  io.stdout.write(`jobscope demo: enqueuing ${config.demoRatePerSec} job(s)/s${workers ? ` with ${options.workers} worker(s) per queue` : ''}; Ctrl-C to stop\n`);
  // Without workers of its own nobody runs these jobs unless workers serve its queues: say which.
  if (!workers) {
    const queues = Object.values(DEMO_QUEUES);
    io.stdout.write(`jobscope demo: no workers here (--workers 0); the jobs go to the queues ${queues.join(' and ')}${options.bullPrefix ? ` (BullMQ prefix ${options.bullPrefix})` : ''}: serve them with ${queues.map((q) => `\`jobscope worker --connector simulated --queue ${q}\``).join(' and ')}, or run the demo with --workers 1\n`);
  }
  const progress = setInterval(() => {
    const s = producer.stats();
    const queues = Object.entries(s.byQueue).map(([q, n]) => `${q} ${n}`).join(', ');
    io.stdout.write(`enqueued ${s.enqueued} (${queues || 'none yet'})${s.errors ? `; ${s.errors} failed, last: ${lastError}` : ''}${s.skipped ? `; ${s.skipped} skipped (Redis too slow for the rate)` : ''}\n`);
  }, 5000);
  progress.unref();
  const signal = await stopped;
  clearInterval(progress);
  io.stdout.write(`jobscope demo: ${signal}, stopping\n`);
  await producer.stop();
  await workers?.close(signal);
  const s = producer.stats();
  io.stdout.write(`enqueued ${s.enqueued} job(s) in total${s.abandoned ? `; gave up on ${s.abandoned} add(s) still waiting for Redis` : ''}\n`);
  return 0;
}

/** `jobscope demo`: the demo producer (and optionally demo workers) until SIGTERM/SIGINT. */
export async function run(args: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { rate: { type: 'string' }, workers: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    io.stderr.write(`jobscope: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const workers = values.workers === undefined ? 0 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) {
    io.stderr.write(`jobscope: --workers must be a whole number from 0 to 64 (got "${values.workers}")\n\n${USAGE}\n`);
    return 2;
  }
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed)) {
    io.stderr.write(`jobscope: --seed must be a whole number (got "${values.seed}")\n\n${USAGE}\n`);
    return 2;
  }
  const settings = flagSettings(io.env, [['--rate', 'DEMO_RATE_PER_SEC', values.rate]]);
  // Checked before anything starts, so that a bad --rate is reported as --rate.
  const config = settings.load(loadDemoConfig);
  const env = settings.env;
  return runUntilStopped({ command: 'demo', stderr: io.stderr, skipped: WORKERS_SKIPPED }, (received) =>
    runDemo({ workers, ...(seed !== undefined ? { seed } : {}), ...(config.bullPrefix ? { bullPrefix: config.bullPrefix } : {}) }, { ...io, env }, received),
  );
}
