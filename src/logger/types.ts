import type { AiUsage, Attrs, ErrorInput, Identity, Level } from '../events/index.js';

/**
 * The public surface of ConnectorLogger and its job logger. Implementations live beside this
 * file; code that only emits events (job workers, connectors) depends on these types.
 */

/** Options for one job attempt's logger. */
export interface JobContextOptions {
  /** 1-based attempt number. Default 1. */
  attempt?: number;
  sessionId?: string;
  /** W3C `traceparent` of the code that enqueued the job; the attempt joins that trace. */
  traceparent?: string;
  queue?: string;
  /** The job's name (BullMQ `job.name`). */
  name?: string;
}

/** Extra fields any job lifecycle call accepts. */
export interface CommonFields {
  /**
   * AI usage of this step, as with {@link JobLogger.recordUsage}: counts (tokens, GPU-seconds,
   * cost) are ADDED to the attempt's totals, model and provider replace; every event carries the
   * totals so far. Pass what is new since the last report, not a running total (it would be
   * counted again).
   */
  ai?: AiUsage;
  /** Free-form attributes (at most 64; scalars only). */
  attrs?: Attrs;
  message?: string;
  /**
   * When it happened, Unix ms. Default: now. For code that reports an event a little after the
   * fact (the job runtime hands its lifecycle events over in batches).
   */
  at?: number;
}

export interface JobReceivedFields extends CommonFields {
  inputSize?: number;
  enqueuedAt?: number;
  queueWaitMs?: number;
  priority?: number;
}
export interface JobStartedFields extends CommonFields {
  queueWaitMs?: number;
}
export interface JobProgressFields extends CommonFields {
  step?: number;
  totalSteps?: number;
  stage?: string;
}
export interface JobCompletedFields extends CommonFields {
  /** Defaults to the time since `jobStarted` (or `jobReceived`). */
  durationMs?: number;
  outputCount?: number;
  outputSize?: number;
}
export interface JobFailedFields extends CommonFields {
  durationMs?: number;
  willRetry?: boolean;
}
export interface JobRetryingFields extends CommonFields {
  nextAttempt?: number;
  delayMs?: number;
  error?: ErrorInput;
}
export interface JobCancelledFields extends CommonFields {
  reason?: string;
  durationMs?: number;
}

/** A logger bound to one job attempt. Every method is fire-and-forget: it never throws. */
export interface JobLogger {
  readonly jobId: string;
  readonly attempt: number;
  readonly traceId: string;
  readonly spanId: string;
  /** `00-<traceId>-<spanId>-01`, to pass on to downstream calls. */
  readonly traceparent: string;
  jobReceived(fields?: JobReceivedFields): void;
  jobStarted(fields?: JobStartedFields): void;
  /** `progress` is a percentage, 0–100. */
  jobProgress(progress: number, fields?: JobProgressFields): void;
  jobCompleted(fields?: JobCompletedFields): void;
  jobFailed(error: ErrorInput, fields?: JobFailedFields): void;
  jobRetrying(fields?: JobRetryingFields): void;
  jobCancelled(fields?: JobCancelledFields): void;
  debug(message: string, attrs?: Attrs): void;
  info(message: string, attrs?: Attrs): void;
  warn(message: string, attrs?: Attrs): void;
  error(message: string, attrs?: Attrs): void;
  /**
   * Adds AI usage to the attempt (counts added, model and provider replaced), reported with the
   * next lifecycle event's totals. Report each piece once: a running total passed again adds up.
   */
  recordUsage(usage: AiUsage): void;
}

/** Counters of the publisher: what was sent, waited, spooled, and dropped. */
export interface PublisherStats {
  /** Events accepted from logger calls. */
  accepted: number;
  /** Events Redis confirmed (XADD returned an id). */
  published: number;
  /** Events waiting in memory now. */
  buffered: number;
  /** Bytes waiting in memory now. */
  bufferedBytes: number;
  /** Events written to the spool file since start. */
  spooled: number;
  /** Events waiting in the spool file now. */
  spoolPending: number;
  /** Events replayed from the spool into Redis. */
  replayed: number;
  /** Events lost because both the memory and the spool bounds were full. */
  dropped: number;
  /** Logger calls with bad arguments, reported instead of thrown. */
  invalidCalls: number;
  /** Failed XADD batches (retried). */
  publishErrors: number;
  connected: boolean;
}

export type { Identity, Level };
