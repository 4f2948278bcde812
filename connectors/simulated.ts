import type { ErrorCategory } from '../src/events/index.js';
import { abortableSleep } from './abortable-sleep.js';
import type { Connector, ConnectorContext, ConnectorJob, ConnectorResult } from './connector.js';
import { ConnectorError } from './connector-error.js';
import { between, createRandom, hashString, type Random } from './seeded-random.js';

/**
 * A connector that pretends to be an AI service: latency, progress steps, failures of every
 * kind, token or GPU usage, and stuck jobs. Deterministic with a seed: each job's outcome is
 * drawn from `seed`, its id and its attempt, so it does not depend on scheduling order. Used by
 * the demo and the tests. A job's `data.simulate` overrides the options for that job.
 */

/** Failure kinds the simulation produces, each with its real-world error shape. */
export const SIMULATED_FAILURE_KINDS = ['timeout', 'oom', 'rate_limit', 'network', 'model', 'validation'] as const;
export type SimulatedFailureKind = (typeof SIMULATED_FAILURE_KINDS)[number];

/** A range of integers, inclusive. */
export interface IntRange {
  min: number;
  max: number;
}

/** Usage the simulation reports. Token ranges for LLM-like jobs, GPU time for image jobs. */
export interface SimulatedUsage {
  model?: string;
  provider?: string;
  inputTokens?: IntRange;
  outputTokens?: IntRange;
  /** Share of input tokens served from cache, 0–1. Default 0. */
  cachedShare?: number;
  /** Report the run's wall time as GPU-seconds. Default false. */
  gpuSeconds?: boolean;
}

/** Options of {@link createSimulatedConnector}. */
export interface SimulatedConnectorOptions {
  /** Service type on events. Default `simulated`. */
  serviceType?: string;
  /** Run time of a job, in ms. Default 200–1500. */
  latencyMs?: IntRange;
  /** Progress reports per job. Default 5. */
  progressSteps?: number;
  /** Probability, 0–1, that an attempt fails. Default 0. */
  failureRate?: number;
  /** Kinds a failure is drawn from. Default all of {@link SIMULATED_FAILURE_KINDS}. */
  failureKinds?: readonly SimulatedFailureKind[];
  /** Probability, 0–1, that a job gets stuck (runs `stuckLatencyMs`). Default 0. */
  stuckRate?: number;
  /** Run time of a stuck job, in ms. Default 600000 (10 min). */
  stuckLatencyMs?: number;
  usage?: SimulatedUsage;
  /** Seed of the outcomes. Default: random per connector. */
  seed?: number;
}

/** Per-job overrides, read from `job.data.simulate`. */
export interface SimulateDirective {
  latencyMs?: number;
  steps?: number;
  /** Fail with this kind… */
  fail?: SimulatedFailureKind;
  /** …on the first N attempts only (default: every attempt). */
  failAttempts?: number;
  stuck?: boolean;
  model?: string;
  provider?: string;
  inputTokens?: number;
  outputTokens?: number;
  gpuSeconds?: boolean;
}

interface Plan {
  latencyMs: number;
  steps: number;
  fail: SimulatedFailureKind | undefined;
  usage: SimulatedUsage | undefined;
  inputTokens: number;
  outputTokens: number;
}

const FAILURES: Record<SimulatedFailureKind, { message: string; type: string; category: ErrorCategory; retryable: boolean; code?: string }> = {
  timeout: { message: 'inference did not finish within the deadline', type: 'TimeoutError', category: 'timeout', retryable: true, code: 'ETIMEDOUT' },
  oom: { message: 'CUDA out of memory. Tried to allocate 2.00 GiB', type: 'OutOfMemoryError', category: 'out_of_memory', retryable: true },
  rate_limit: { message: 'rate limit exceeded: too many requests', type: 'RateLimitError', category: 'rate_limit', retryable: true, code: '429' },
  network: { message: 'connection reset by upstream service', type: 'NetworkError', category: 'network', retryable: true, code: 'ECONNRESET' },
  model: { message: 'model returned an invalid response (content filter)', type: 'ModelError', category: 'model', retryable: false },
  validation: { message: 'invalid input: prompt is required', type: 'ValidationError', category: 'validation', retryable: false, code: '400' },
};

/** The error a simulated failure throws. */
export function simulatedFailure(kind: SimulatedFailureKind): ConnectorError {
  const f = FAILURES[kind];
  return new ConnectorError(f.message, { category: f.category, retryable: f.retryable, type: f.type, ...(f.code ? { code: f.code } : {}) });
}

function directiveOf(data: unknown): SimulateDirective {
  if (data !== null && typeof data === 'object' && 'simulate' in data) {
    const s = (data as { simulate?: unknown }).simulate;
    if (s !== null && typeof s === 'object') return s as SimulateDirective;
  }
  return {};
}

/** Creates the simulated connector. */
export function createSimulatedConnector(options: SimulatedConnectorOptions = {}): Connector {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const latency = options.latencyMs ?? { min: 200, max: 1500 };
  const kinds = options.failureKinds?.length ? options.failureKinds : SIMULATED_FAILURE_KINDS;

  function plan(job: ConnectorJob): Plan {
    const random: Random = createRandom(seed ^ hashString(`${job.id}#${job.attempt}`));
    const d = directiveOf(job.data);
    const stuck = d.stuck ?? random() < (options.stuckRate ?? 0);
    const drawFail = random() < (options.failureRate ?? 0);
    const drawnKind = kinds[Math.floor(random() * kinds.length)]!;
    const failsThisAttempt = d.fail !== undefined && (d.failAttempts === undefined || job.attempt <= d.failAttempts);
    const overridden = d.model !== undefined || d.provider !== undefined || d.gpuSeconds !== undefined;
    const usage: SimulatedUsage | undefined = overridden
      ? {
          ...options.usage,
          ...(d.model !== undefined ? { model: d.model } : {}),
          ...(d.provider !== undefined ? { provider: d.provider } : {}),
          ...(d.gpuSeconds !== undefined ? { gpuSeconds: d.gpuSeconds } : {}),
        }
      : options.usage;
    return {
      latencyMs: stuck ? (options.stuckLatencyMs ?? 600_000) : (d.latencyMs ?? between(random, latency.min, latency.max)),
      steps: Math.max(0, d.steps ?? options.progressSteps ?? 5),
      fail: d.fail !== undefined ? (failsThisAttempt ? d.fail : undefined) : drawFail ? drawnKind : undefined,
      usage,
      inputTokens: d.inputTokens ?? (usage?.inputTokens ? between(random, usage.inputTokens.min, usage.inputTokens.max) : 0),
      outputTokens: d.outputTokens ?? (usage?.outputTokens ? between(random, usage.outputTokens.min, usage.outputTokens.max) : 0),
    };
  }

  async function run(job: ConnectorJob, ctx: ConnectorContext): Promise<ConnectorResult> {
    const p = plan(job);
    const started = performance.now();
    // A failing attempt fails partway through, as real ones do.
    const runSteps = p.fail ? Math.max(1, Math.ceil(p.steps / 2)) : p.steps;
    const slices = Math.max(1, p.steps);
    for (let step = 1; step <= runSteps; step++) {
      await abortableSleep(p.latencyMs / slices, ctx.signal);
      ctx.progress((step / slices) * 100, { step, totalSteps: p.steps, stage: step === p.steps ? 'finishing' : 'running' });
    }
    if (p.steps === 0) await abortableSleep(p.latencyMs, ctx.signal);
    reportUsage(p, ctx, (performance.now() - started) / 1000);
    if (p.fail) throw simulatedFailure(p.fail);
    return { output: { simulated: true, tokens: p.outputTokens }, outputCount: 1, outputSize: p.outputTokens * 4 };
  }

  function reportUsage(p: Plan, ctx: ConnectorContext, wallSeconds: number): void {
    if (!p.usage) return;
    const cached = Math.floor(p.inputTokens * (p.usage.cachedShare ?? 0));
    ctx.reportUsage({
      ...(p.usage.model ? { model: p.usage.model } : {}),
      ...(p.usage.provider ? { provider: p.usage.provider } : {}),
      ...(p.inputTokens > 0 ? { inputTokens: p.inputTokens, cachedTokens: cached } : {}),
      ...(p.outputTokens > 0 && !p.fail ? { outputTokens: p.outputTokens, timeToFirstTokenMs: Math.min(p.latencyMs, 80 + p.inputTokens / 50) } : {}),
      ...(p.usage.gpuSeconds ? { gpuSeconds: wallSeconds } : {}),
    });
  }

  return { serviceType: options.serviceType ?? 'simulated', name: 'simulated', run };
}
