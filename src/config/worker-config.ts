import { intVar, numberVar, optionalStringVar, readEnv, stringVar, urlVar, type Env } from './env-schema.js';

/** Settings of a job worker, its connectors and the demo producer. */
export interface WorkerConfig {
  /** `JOBSCOPE_QUEUE`: the BullMQ queue to work. Default `jobs`. */
  queue: string;
  /** `WORKER_CONCURRENCY`: jobs run at once. Default 4 (1–1000). */
  concurrency: number;
  /** `HEARTBEAT_INTERVAL_MS`: interval of worker heartbeats, in ms. Default 5000 (100–3600000). */
  heartbeatIntervalMs: number;
  /** `WORKER_SHUTDOWN_TIMEOUT_MS`: how long a stopping worker lets jobs finish, in ms. Default 25000. */
  shutdownTimeoutMs: number;
  /** `OPENAI_BASE_URL`: API base (with `/v1`) of the openai-compatible connector. */
  openaiBaseUrl: string | undefined;
  /** `OPENAI_API_KEY`: bearer token of the openai-compatible connector. */
  openaiApiKey: string | undefined;
  /** `OPENAI_MODEL`: model when a job names none. Default `gpt-4o-mini`. */
  openaiModel: string;
  /** `OPENAI_TIMEOUT_MS`: longest wait for the response headers and each silence of the body, in ms. Default 120000 (1000–3600000). */
  openaiTimeoutMs: number;
  /** `COMFYUI_URL`: ComfyUI's HTTP base for the comfyui connector. */
  comfyuiUrl: string | undefined;
  /** `JOBSCOPE_PRICES_FILE`: a price file merged over the shipped `prices.json`. */
  pricesFile: string | undefined;
  /** `DEMO_RATE_PER_SEC`: jobs per second the demo producer enqueues. Default 2 (0.01–1000). */
  demoRatePerSec: number;
  /** `PORT`: serve `/healthz` and `/metrics` (publisher counters) on this port; 0 or unset = off. */
  healthPort: number;
  /** `JOBSCOPE_CONNECTOR`: the connector when `--connector` is not given. */
  connector: string | undefined;
  /** `BULLMQ_PREFIX`: the BullMQ key prefix of the queues (the `prefix` your Queue objects use). Default BullMQ's, `bull`. */
  bullPrefix: string | undefined;
}

/** The variables of {@link WorkerConfig}. */
const WORKER_VARS = {
  JOBSCOPE_QUEUE: stringVar('jobs').refine((s) => /^[A-Za-z0-9._-]{1,128}$/.test(s), {
    message: 'must be 1-128 characters: letters, digits, ".", "_" or "-"',
  }),
  WORKER_CONCURRENCY: intVar(4, 1, 1000),
  HEARTBEAT_INTERVAL_MS: intVar(5000, 100, 3_600_000),
  WORKER_SHUTDOWN_TIMEOUT_MS: intVar(25_000, 0, 3_600_000),
  OPENAI_BASE_URL: urlVar(['http:', 'https:']),
  OPENAI_API_KEY: optionalStringVar(),
  OPENAI_MODEL: stringVar('gpt-4o-mini'),
  OPENAI_TIMEOUT_MS: intVar(120_000, 1000, 3_600_000),
  COMFYUI_URL: urlVar(['http:', 'https:']),
  JOBSCOPE_PRICES_FILE: optionalStringVar(),
  DEMO_RATE_PER_SEC: numberVar(2, 0.01, 1000),
  PORT: intVar(0, 0, 65_535),
  JOBSCOPE_CONNECTOR: optionalStringVar(),
  BULLMQ_PREFIX: optionalStringVar().refine((s) => s === undefined || /^[A-Za-z0-9:._{}-]{1,64}$/.test(s), {
    message: 'must be 1-64 characters: letters, digits, ":", ".", "_", "-", "{" or "}"',
  }),
};

/** Reads {@link WorkerConfig} from the environment; a bad value throws a ConfigError naming it. */
export function loadWorkerConfig(env: Env): WorkerConfig {
  const v = readEnv(WORKER_VARS, env);
  return {
    queue: v.JOBSCOPE_QUEUE,
    concurrency: v.WORKER_CONCURRENCY,
    heartbeatIntervalMs: v.HEARTBEAT_INTERVAL_MS,
    shutdownTimeoutMs: v.WORKER_SHUTDOWN_TIMEOUT_MS,
    openaiBaseUrl: v.OPENAI_BASE_URL,
    openaiApiKey: v.OPENAI_API_KEY,
    openaiModel: v.OPENAI_MODEL,
    openaiTimeoutMs: v.OPENAI_TIMEOUT_MS,
    comfyuiUrl: v.COMFYUI_URL,
    pricesFile: v.JOBSCOPE_PRICES_FILE,
    demoRatePerSec: v.DEMO_RATE_PER_SEC,
    healthPort: v.PORT,
    connector: v.JOBSCOPE_CONNECTOR,
    bullPrefix: v.BULLMQ_PREFIX,
  };
}

/** What `jobscope demo` uses of {@link WorkerConfig}: its producer, and its own workers when it runs some. */
export type DemoConfig = Pick<WorkerConfig, 'heartbeatIntervalMs' | 'pricesFile' | 'demoRatePerSec' | 'bullPrefix'>;

/**
 * Reads {@link DemoConfig}: only the variables the demo uses, so that a setting meant for a job
 * worker (its queue, concurrency, connectors) does not stop the demo when it is off.
 */
export function loadDemoConfig(env: Env): DemoConfig {
  const { HEARTBEAT_INTERVAL_MS, JOBSCOPE_PRICES_FILE, DEMO_RATE_PER_SEC, BULLMQ_PREFIX } = WORKER_VARS;
  const v = readEnv({ HEARTBEAT_INTERVAL_MS, JOBSCOPE_PRICES_FILE, DEMO_RATE_PER_SEC, BULLMQ_PREFIX }, env);
  return { heartbeatIntervalMs: v.HEARTBEAT_INTERVAL_MS, pricesFile: v.JOBSCOPE_PRICES_FILE, demoRatePerSec: v.DEMO_RATE_PER_SEC, bullPrefix: v.BULLMQ_PREFIX };
}
