import { isPutBack, type JobscopeEvent } from '../../events/index.js';
import type { TimelineEntry } from '../../status/types.js';

/**
 * Flattens an event into the compact JSON the apply-events Lua script reads (short keys keep
 * the script's cjson work small). Only fields the store uses are carried; `tl` is the finished
 * timeline line, built here so the script only appends it.
 */

/** The compact event the script reads; absent fields are omitted. */
export interface ScriptEvent {
  i: string;
  t: string;
  ts: number;
  m: string;
  w: string;
  s: string;
  c: string;
  inst?: string;
  j?: string;
  a?: number;
  q?: string;
  n?: string;
  tr?: string;
  sp?: string;
  ea?: number;
  qw?: number;
  pg?: number;
  st?: string;
  du?: number;
  er?: string;
  wr?: boolean;
  na?: number;
  mo?: string;
  pv?: string;
  op?: string;
  it?: number;
  ot?: number;
  ct?: number;
  rt?: number;
  tf?: number;
  gs?: number;
  co?: number;
  hi?: number;
  cj?: string[];
  ve?: string;
  pid?: number;
  cc?: number;
  tl?: string;
  /** A `log` event of one of PUT_BACK_KINDS: the run will run again. */
  pk?: boolean;
}

/** The timeline line of a job event. */
export function toTimelineEntry(event: JobscopeEvent): TimelineEntry {
  const entry: TimelineEntry = {
    eventId: event.id,
    type: event.type,
    time: event.time,
    attempt: event.job?.attempt ?? 1,
    level: event.level,
  };
  if (event.message !== undefined) entry.message = event.message;
  switch (event.type) {
    case 'job.progress':
      entry.progress = event.data.progress;
      if (event.data.stage !== undefined) entry.stage = event.data.stage;
      break;
    case 'job.completed':
      entry.durationMs = event.data.durationMs;
      break;
    case 'job.failed':
      entry.durationMs = event.data.durationMs;
      entry.errorType = event.data.error.type;
      entry.errorMessage = event.data.error.message;
      break;
    case 'job.retrying':
      if (event.data.error) {
        entry.errorType = event.data.error.type;
        entry.errorMessage = event.data.error.message;
      }
      break;
    case 'job.cancelled':
      if (event.data.durationMs !== undefined) entry.durationMs = event.data.durationMs;
      // Why it was cancelled, where a failure says why it failed.
      entry.errorType = CANCELLED.type;
      entry.errorMessage = event.data.reason ?? 'cancelled';
      break;
    default:
      break;
  }
  return entry;
}

/** Type-specific fields of job events. */
function jobDataFields(event: JobscopeEvent, out: ScriptEvent): void {
  switch (event.type) {
    case 'job.received':
      out.ea = event.data.enqueuedAt;
      out.qw = event.data.queueWaitMs;
      break;
    case 'job.started':
      out.qw = event.data.queueWaitMs;
      break;
    case 'job.progress':
      out.pg = event.data.progress;
      out.st = event.data.stage;
      break;
    case 'job.completed':
      out.du = event.data.durationMs;
      break;
    case 'job.failed':
      out.du = event.data.durationMs;
      out.er = JSON.stringify(event.data.error);
      out.wr = event.data.willRetry;
      break;
    case 'job.retrying':
      out.na = event.data.nextAttempt;
      if (event.data.error) out.er = JSON.stringify(event.data.error);
      break;
    case 'job.cancelled':
      out.du = event.data.durationMs;
      // The job's last error is its cancellation, with the reason given (`jobscope job` shows it).
      out.er = JSON.stringify({ ...CANCELLED, message: event.data.reason ?? 'cancelled' });
      break;
    default:
      break;
  }
}

/** A cancellation as the job's last error (type and category; the message is the reason). */
const CANCELLED = { type: 'JobCancelled', category: 'cancelled' } as const;

/** Type-specific fields of worker events. */
function workerDataFields(event: JobscopeEvent, out: ScriptEvent): void {
  switch (event.type) {
    case 'worker.started':
      out.ve = event.data.version;
      out.pid = event.data.pid;
      out.cc = event.data.concurrency;
      out.hi = event.data.heartbeatIntervalMs;
      break;
    case 'worker.heartbeat':
      out.hi = event.data.intervalMs;
      out.cj = event.data.currentJobs;
      break;
    default:
      break;
  }
}

/** The compact form of `event` for the apply-events script. */
export function toScriptEvent(event: JobscopeEvent): ScriptEvent {
  const { source, job, ai, trace } = event;
  const out: ScriptEvent = {
    i: event.id,
    t: event.type,
    ts: event.time,
    m: source.machineId,
    w: source.workerId,
    s: source.serviceType,
    c: source.connectorId,
    inst: source.instance,
  };
  if (job) {
    Object.assign(out, { j: job.id, a: job.attempt, q: job.queue, n: job.name });
    out.tl = JSON.stringify(toTimelineEntry(event));
    if (isPutBack(event)) out.pk = true;
  }
  if (trace) Object.assign(out, { tr: trace.traceId, sp: trace.spanId });
  if (ai) {
    Object.assign(out, {
      mo: ai.model,
      pv: ai.provider,
      op: ai.operation,
      it: ai.inputTokens,
      ot: ai.outputTokens,
      ct: ai.cachedTokens,
      rt: ai.reasoningTokens,
      tf: ai.timeToFirstTokenMs,
      gs: ai.gpuSeconds,
      co: ai.costUsd,
    });
  }
  jobDataFields(event, out);
  workerDataFields(event, out);
  return out;
}
