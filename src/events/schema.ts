import { z } from 'zod';
import { EVENT_ID_PATTERN } from './event-id.js';
import { identitySchema } from './identity.js';
import { SPAN_ID_PATTERN, TRACE_ID_PATTERN } from './trace-context.js';

/**
 * The event contract, version 1: the single source of truth for producer and consumer.
 * Every bound below exists so a hostile or buggy producer cannot make a consumer allocate
 * without limit; an event outside them is rejected with the path of the offending field.
 */

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = 1;

/** Longest `message`, in characters. */
export const MAX_MESSAGE_CHARS = 8192;
/** Longest error stack, in characters. */
export const MAX_STACK_CHARS = 32768;
/** Most free-form attributes on one event. */
export const MAX_ATTRS = 64;

export const EVENT_TYPES = [
  'job.received',
  'job.started',
  'job.progress',
  'job.completed',
  'job.failed',
  'job.retrying',
  'job.cancelled',
  'worker.started',
  'worker.heartbeat',
  'worker.stopped',
  'log',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];

/** How a failure is classified; drives grouping, metrics and retry advice. */
export const ERROR_CATEGORIES = [
  'timeout',
  'out_of_memory',
  'network',
  'rate_limit',
  'model',
  'validation',
  'cancelled',
  'unknown',
] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

const nonNegInt = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const nonNeg = z.number().nonnegative().max(Number.MAX_SAFE_INTEGER);
const shortText = (max: number) => z.string().min(1).max(max);
/** No control characters: these ids end up in Redis keys, URLs and terminal output. */
const jobIdSchema = z
  .string()
  .min(1)
  .max(256)
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

export const jobRefSchema = z.object({
  id: jobIdSchema,
  /** 1 for the first run; for the job runtime, BullMQ's attemptsStarted (a run after a stall or a rate limit counts). */
  attempt: z.number().int().min(1).max(10_000),
  queue: shortText(128).optional(),
  name: shortText(128).optional(),
  sessionId: shortText(128).optional(),
});
export type JobRef = z.infer<typeof jobRefSchema>;

export const traceRefSchema = z.object({
  traceId: z.string().regex(TRACE_ID_PATTERN, 'must be 32 lower-case hex characters, not all zero'),
  spanId: z.string().regex(SPAN_ID_PATTERN, 'must be 16 lower-case hex characters, not all zero'),
  /** The span of the code that enqueued the job, when it passed a `traceparent`. */
  parentSpanId: z.string().regex(SPAN_ID_PATTERN, 'must be 16 lower-case hex characters').optional(),
  sampled: z.boolean().optional(),
});
export type TraceRef = z.infer<typeof traceRefSchema>;

/**
 * AI usage of the job attempt so far: a running total, not a delta. Each lifecycle event of an
 * attempt carries the attempt's totals up to that point, so a consumer takes the latest (or the
 * largest) per attempt and never adds events together. Names map onto the OpenTelemetry GenAI
 * attributes (see `src/events/genai.ts`).
 */
export const aiUsageSchema = z.object({
  model: shortText(256).optional(),
  provider: shortText(64).optional(),
  operation: shortText(64).optional(),
  inputTokens: nonNegInt.optional(),
  outputTokens: nonNegInt.optional(),
  cachedTokens: nonNegInt.optional(),
  reasoningTokens: nonNegInt.optional(),
  timeToFirstTokenMs: nonNeg.optional(),
  gpuSeconds: nonNeg.optional(),
  /** Cost in US dollars, priced at event time. */
  costUsd: nonNeg.optional(),
});
export type AiUsage = z.infer<typeof aiUsageSchema>;

export const errorInfoSchema = z.object({
  /** The error's class or code name, e.g. `TimeoutError`, `ECONNRESET`. */
  type: shortText(128),
  category: z.enum(ERROR_CATEGORIES),
  message: z.string().max(MAX_MESSAGE_CHARS),
  stack: z.string().max(MAX_STACK_CHARS).optional(),
  code: shortText(128).optional(),
});
export type ErrorInfo = z.infer<typeof errorInfoSchema>;

const attrValue = z.union([z.string().max(4096), z.number(), z.boolean(), z.null()]);
export const attrsSchema = z
  .record(z.string().min(1).max(64), attrValue)
  .refine((r) => Object.keys(r).length <= MAX_ATTRS, `must have at most ${MAX_ATTRS} keys`);
export type Attrs = z.infer<typeof attrsSchema>;

const baseFields = {
  v: z.literal(SCHEMA_VERSION),
  id: z.string().regex(EVENT_ID_PATTERN, 'must be a lower-case UUIDv7'),
  /** Unix time in milliseconds when the event happened. */
  time: z.number().int().positive().max(8.64e15),
  level: z.enum(LEVELS),
  message: z.string().max(MAX_MESSAGE_CHARS).optional(),
  source: identitySchema,
  /** Unique id of the producing logger instance; with `seq` it reveals gaps. */
  producer: shortText(128),
  /** Per-producer sequence number, from 0, +1 per event. */
  seq: nonNegInt,
  trace: traceRefSchema.optional(),
  ai: aiUsageSchema.optional(),
  attrs: attrsSchema.optional(),
};

const jobEvent = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ ...baseFields, type: z.literal(type), job: jobRefSchema, data });
const plainEvent = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ ...baseFields, type: z.literal(type), job: jobRefSchema.optional(), data });

export const jobReceivedData = z.object({
  inputSize: nonNegInt.optional(),
  /** When the job was enqueued (Unix ms), e.g. BullMQ's `job.timestamp`. */
  enqueuedAt: z.number().int().positive().optional(),
  queueWaitMs: nonNeg.optional(),
  priority: z.number().int().optional(),
});
export const jobStartedData = z.object({ queueWaitMs: nonNeg.optional() });
export const jobProgressData = z.object({
  /** Percent complete, 0–100. */
  progress: z.number().min(0).max(100),
  step: nonNegInt.optional(),
  totalSteps: nonNegInt.optional(),
  stage: shortText(128).optional(),
});
export const jobCompletedData = z.object({
  durationMs: nonNeg,
  outputCount: nonNegInt.optional(),
  outputSize: nonNegInt.optional(),
});
export const jobFailedData = z.object({
  durationMs: nonNeg,
  error: errorInfoSchema,
  /** False when retries are exhausted: the failure is final. */
  willRetry: z.boolean().optional(),
});
export const jobRetryingData = z.object({
  nextAttempt: z.number().int().min(2).max(10_000),
  delayMs: nonNeg.optional(),
  error: errorInfoSchema.optional(),
});
export const jobCancelledData = z.object({
  reason: z.string().max(1024).optional(),
  durationMs: nonNeg.optional(),
});
export const workerStartedData = z.object({
  pid: nonNegInt.optional(),
  version: shortText(64).optional(),
  concurrency: z.number().int().min(1).max(100_000).optional(),
  queues: z.array(shortText(128)).max(64).optional(),
  heartbeatIntervalMs: z.number().int().positive().optional(),
});
export const workerHeartbeatData = z.object({
  /** How often heartbeats come; liveness is judged against it. */
  intervalMs: z.number().int().positive(),
  currentJobs: z.array(jobIdSchema).max(1024),
  uptimeMs: nonNeg.optional(),
  rssBytes: nonNegInt.optional(),
});
export const workerStoppedData = z.object({
  reason: z.string().max(1024).optional(),
  uptimeMs: nonNeg.optional(),
});
export const logData = z.object({
  /** `log` for plain lines; `health`, `service`, `stalled`, … for typed service events. */
  kind: shortText(64).default('log'),
  name: shortText(128).optional(),
  status: z.enum(['healthy', 'degraded', 'unhealthy']).optional(),
});

/**
 * `attrs.kind` of the `log` event with which the job runtime ends a run that will run again
 * without having failed: BullMQ put it back (rate limit, delayed, back to wait, waiting for its
 * children) or a stopping worker handed it back. The status store reads the job as retrying.
 */
export const PUT_BACK_KINDS = ['rate_limited', 'delayed', 'moved_to_wait', 'waiting_children', 'handed_back'] as const;
export type PutBackKind = (typeof PUT_BACK_KINDS)[number];

const PUT_BACK = new Set<string>(PUT_BACK_KINDS);

/**
 * Whether `event` ends a job's run that will run again without having failed (a `log` event of
 * one of {@link PUT_BACK_KINDS}): it carries that run's usage, as a terminal event does.
 */
export function isPutBack(event: { type: string; job?: unknown; attrs?: Record<string, unknown> | undefined }): boolean {
  return event.type === 'log' && event.job !== undefined && typeof event.attrs?.kind === 'string' && PUT_BACK.has(event.attrs.kind);
}

/** One Jobscope event, any type. */
export const eventSchema = z.discriminatedUnion('type', [
  jobEvent('job.received', jobReceivedData),
  jobEvent('job.started', jobStartedData),
  jobEvent('job.progress', jobProgressData),
  jobEvent('job.completed', jobCompletedData),
  jobEvent('job.failed', jobFailedData),
  jobEvent('job.retrying', jobRetryingData),
  jobEvent('job.cancelled', jobCancelledData),
  plainEvent('worker.started', workerStartedData),
  plainEvent('worker.heartbeat', workerHeartbeatData),
  plainEvent('worker.stopped', workerStoppedData),
  plainEvent('log', logData),
]);

/** A validated event. Narrow on `type` to reach the typed `data`. */
export type JobscopeEvent = z.infer<typeof eventSchema>;
/** The event of one type. */
export type EventOf<T extends EventType> = Extract<JobscopeEvent, { type: T }>;
/** Any `job.*` event. */
export type JobEvent = Extract<JobscopeEvent, { type: `job.${string}` }>;

/** True for the events that end a job attempt. */
export function isTerminalType(type: EventType): boolean {
  return type === 'job.completed' || type === 'job.failed' || type === 'job.cancelled';
}
