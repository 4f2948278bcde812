import { trace } from '@opentelemetry/api';
import { Queue, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { createEnqueueTrace, createEventId, formatTraceparent, parseTraceparent } from '../events/index.js';
import { requestCancel } from './cancel-requests.js';
import { asBullConnection, bullClient, quietAfterClose, type RedisConnection } from './redis-connection.js';

/**
 * The producer helper for code that enqueues jobs. Each job's data gets a `traceparent`, so
 * enqueue → run is one trace: the caller's (`opts.traceparent`, else the active OpenTelemetry
 * span), or a new trace with a span for the enqueue, which the OpenTelemetry sink exports with
 * the job's first attempt (see enqueueSpanIdOf). The job worker passes it to the job's logger,
 * and every event of every attempt carries that trace id.
 */

/** Options of {@link createJobProducer}. */
export interface JobProducerOptions {
  /** A client (kept open; duplicated for BullMQ) or a URL (connected and closed here). */
  connection: RedisConnection;
  queue: string;
  /** BullMQ key prefix. Default BullMQ's (`bull`). */
  bullPrefix?: string;
  /** Jobscope key prefix, for cancel requests. Default `jobscope`. */
  prefix?: string;
  /** Job options applied to every job (attempts, backoff, removeOnComplete, …). */
  defaultJobOptions?: JobsOptions;
}

/** Per-job options: BullMQ's, plus the trace to join. */
export interface EnqueueOptions extends JobsOptions {
  /** The W3C `traceparent` to join; default: the active OpenTelemetry span, else a new trace. */
  traceparent?: string;
}

/** What {@link JobProducer.enqueue} resolves with. */
export interface EnqueuedJob {
  job: Job;
  /** The `traceparent` stored in the job's data (an existing job's own, when BullMQ gave one back). */
  traceparent: string;
  /** The trace the job's events will carry. */
  traceId: string;
}

/** Enqueues jobs with trace context. */
export interface JobProducer {
  readonly queue: Queue;
  /** Adds a job; `data` must be a plain object (its `traceparent` field is set). */
  enqueue(name: string, data?: Record<string, unknown>, opts?: EnqueueOptions): Promise<EnqueuedJob>;
  /** Requests the cancellation of a job (running or not yet started), by BullMQ's id or its telemetry id (`<queue>:21`). */
  cancel(jobId: string, reason?: string): Promise<number>;
  /** Closes the queue and the connection it created. Idempotent. */
  close(): Promise<void>;
}

/** The traceparent for a new job: the given one, the active span's, or a new trace. */
export function enqueueTraceparent(given?: string): string {
  const parsed = parseTraceparent(given);
  if (parsed) return formatTraceparent(parsed.traceId, parsed.spanId, parsed.sampled);
  const active = trace.getActiveSpan()?.spanContext();
  if (active && trace.isSpanContextValid(active)) return formatTraceparent(active.traceId, active.spanId, (active.traceFlags & 1) === 1);
  const { traceId, spanId } = createEnqueueTrace();
  return formatTraceparent(traceId, spanId);
}

/** Creates a producer on one queue. */
export function createJobProducer(options: JobProducerOptions): JobProducer {
  const redis: Redis = bullClient(options.connection);
  const queue = new Queue(options.queue, {
    connection: asBullConnection(redis),
    ...(options.bullPrefix ? { prefix: options.bullPrefix } : {}),
    ...(options.defaultJobOptions ? { defaultJobOptions: options.defaultJobOptions } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    queue,
    async enqueue(name, data = {}, opts = {}) {
      const { traceparent: given, ...jobOpts } = opts;
      const traceparent = enqueueTraceparent(given);
      // A unique, time-ordered id: BullMQ's own ids repeat across queues. Not for a repeat: BullMQ
      // gives each run its own id, and keys the schedule by the job id given, so a new id per call
      // would add a schedule per call instead of updating the one there (and removeRepeatable(name,
      // repeat) would not find it).
      const jobId = jobOpts.jobId ?? (jobOpts.repeat ? undefined : `${options.queue}-${createEventId()}`);
      const added = await queue.add(name, { ...data, traceparent }, jobId === undefined ? jobOpts : { ...jobOpts, jobId });
      // BullMQ adds nothing for a repeat whose limit is reached or whose next run is past its end.
      if (added === undefined) throw new Error(`queue ${options.queue}: BullMQ added no job (a repeat with no next run: its limit is reached or its end date passed)`);
      // A job id of the caller's (or deduplication) that BullMQ already has adds nothing: the job
      // stored is the earlier one, with its own trace (add() answers with what it was given). Not
      // so when deduplication keeps or replaces with the new data (keepLastIfActive, replace): the
      // trace made here is the one that runs.
      const dedup = jobOpts.deduplication as { keepLastIfActive?: boolean; replace?: boolean } | undefined;
      const lookUp = (jobOpts.jobId !== undefined || dedup !== undefined) && !dedup?.keepLastIfActive && !dedup?.replace;
      const job = lookUp && added.id !== undefined ? ((await queue.getJob(added.id)) ?? added) : added;
      const stored = (job.data as { traceparent?: unknown } | undefined)?.traceparent;
      const kept = typeof stored === 'string' && parseTraceparent(stored) ? stored : traceparent;
      return { job, traceparent: kept, traceId: kept.slice(3, 35) };
    },
    cancel: (jobId, reason) => requestCancel(redis, { prefix: options.prefix ?? 'jobscope', queue: options.queue }, jobId, reason),
    close() {
      closing ??= (async () => {
        await queue.close();
        quietAfterClose(queue);
        redis.disconnect();
      })();
      return closing;
    },
  };
}
