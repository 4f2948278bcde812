import type { Attrs } from '../src/events/index.js';

/**
 * The Connector contract: the only thing a connector author writes is `run(job, ctx)`.
 * The job-worker runtime turns everything around it — received, started, progress, completed,
 * failed, retrying, cancelled, usage and cost — into Jobscope events, so a connector holds no
 * telemetry code: it reports progress and usage through `ctx` and throws on failure.
 */

/** The job as a connector sees it: no BullMQ types leak into connectors. */
export interface ConnectorJob<Data = unknown> {
  /** The queue's job id. */
  id: string;
  /** The job's name (BullMQ `job.name`). */
  name: string;
  /** The job's payload, as the producer enqueued it. */
  data: Data;
  /** 1-based attempt number. */
  attempt: number;
  queue: string;
}

/** Where a job is, reported with {@link ConnectorContext.progress}. */
export interface ProgressDetail {
  step?: number;
  totalSteps?: number;
  /** A short name of the current stage, e.g. `sampling`, `vae_decode`. */
  stage?: string;
}

/**
 * AI usage a connector reports; several reports merge (numbers add up, strings are replaced),
 * so each separate call an attempt makes can be reported on its own. Report each call's usage
 * once: a server that sends running totals with every streamed chunk would otherwise be counted
 * many times (the openai-compatible connector keeps a request's last usage block).
 */
export interface UsageReport {
  model?: string;
  provider?: string;
  /** Prompt tokens, cached ones included (as OpenAI counts them). */
  inputTokens?: number;
  /** Completion tokens, reasoning ones included. */
  outputTokens?: number;
  /** The part of `inputTokens` served from the provider's prompt cache. */
  cachedTokens?: number;
  /** The part of `outputTokens` spent on reasoning. */
  reasoningTokens?: number;
  /** Milliseconds from request to the first output token (streaming). Replaced, not added. */
  timeToFirstTokenMs?: number;
  /** GPU time used, in seconds. */
  gpuSeconds?: number;
}

/** A connector's job-bound logger. Lines become `log` events carrying the job and trace. */
export interface ConnectorLog {
  debug(message: string, attrs?: Attrs): void;
  info(message: string, attrs?: Attrs): void;
  warn(message: string, attrs?: Attrs): void;
  error(message: string, attrs?: Attrs): void;
}

/** What the runtime hands a connector for one job attempt. */
export interface ConnectorContext {
  /** Reports progress, a percentage 0–100 (clamped). Never throws. */
  progress(percent: number, detail?: ProgressDetail): void;
  log: ConnectorLog;
  /**
   * Aborted when the job is cancelled or the worker hands the job back at shutdown. A
   * connector passes it to its I/O and stops promptly; `signal.reason` says why.
   */
  signal: AbortSignal;
  /** Adds AI usage to the attempt; the runtime prices it and puts it on the terminal event. */
  reportUsage(usage: UsageReport): void;
  /** W3C `traceparent` of this attempt, to pass on to downstream HTTP calls. */
  traceparent: string;
}

/** What `run` may resolve with; anything else is stored as the job's return value as is. */
export interface ConnectorResult {
  /** The job's return value (BullMQ stores it). */
  output?: unknown;
  /** How many outputs were produced (images, messages, files). */
  outputCount?: number;
  /** Total size of the outputs, in bytes, where known. */
  outputSize?: number;
}

/** A connector: one AI service integration. */
export interface Connector<Data = unknown> {
  /** The service type stamped on every event, e.g. `comfyui`, `openai`, `simulated`. */
  readonly serviceType: string;
  /** The connector's registry name, e.g. `comfyui`. */
  readonly name: string;
  /** Runs one job attempt. Throws on failure (a {@link ConnectorError} says whether to retry). */
  run(job: ConnectorJob<Data>, ctx: ConnectorContext): Promise<ConnectorResult | void>;
  /** Releases the connector's resources (sockets, agents). Optional; idempotent. */
  close?(): Promise<void>;
}
