import {
  formatTraceparent,
  parseTraceparent,
  type JobRef,
  type TraceRef,
} from '../events/index.js';
import type { JobContextOptions } from './types.js';
import { pooledTraceAndSpanHex } from './random-hex.js';
import { cleanFields, cleanText, type Issues } from './sanitize.js';

/**
 * The fixed part of one job attempt: its job reference (checked once, here) and its trace.
 * Each attempt gets its own span; with a `traceparent` it joins the caller's trace.
 */

/** A job attempt's identity and trace (its `traceparent` is {@link attemptTraceparent}, made when asked for). */
export interface JobAttempt {
  job: JobRef;
  trace: TraceRef;
}

/** The W3C `traceparent` of an attempt's span, for the calls it makes. */
export function attemptTraceparent(trace: TraceRef): string {
  return formatTraceparent(trace.traceId, trace.spanId, trace.sampled);
}

// eslint-disable-next-line no-control-regex -- control characters are what we replace
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- control characters are what we replace
const CONTROL_ALL = /[\u0000-\u001f\u007f]/g;

function cleanJobId(jobId: unknown, issues: Issues): string {
  let id: string;
  if (typeof jobId === 'string') id = jobId;
  else if (typeof jobId === 'number' && Number.isFinite(jobId)) id = String(jobId);
  else {
    issues.push(`jobId: must be a string, got ${jobId === null ? 'null' : typeof jobId}; using "unknown"`);
    return 'unknown';
  }
  if (id.length > 0 && id.length <= 256 && !CONTROL.test(id)) return id;
  if (CONTROL.test(id)) {
    issues.push('jobId: control characters replaced by "?"');
    id = id.replace(CONTROL_ALL, '?');
  }
  if (id.length > 256) {
    issues.push('jobId: longer than 256 characters, cut');
    id = id.slice(0, 256);
  }
  if (id.length === 0) {
    issues.push('jobId: empty; using "unknown"');
    id = 'unknown';
  }
  return id;
}

function cleanAttempt(value: unknown, issues: Issues): number {
  if (value === undefined) return 1;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 10_000) return value;
  issues.push(`attempt: must be an integer from 1 to 10000, got ${String(value).slice(0, 40)}; using 1`);
  return 1;
}

/** Builds a job attempt from `withJobContext` arguments; problems go to `issues`. */
export function createJobAttempt(jobId: unknown, options: JobContextOptions | undefined, issues: Issues): JobAttempt {
  const o = cleanFields(options, issues);
  const job: JobRef = { id: cleanJobId(jobId, issues), attempt: cleanAttempt(o.attempt, issues) };
  const queue = cleanText(o.queue, 128, issues, 'queue');
  const name = cleanText(o.name, 128, issues, 'name');
  const sessionId = cleanText(o.sessionId, 128, issues, 'sessionId');
  if (queue !== undefined) job.queue = queue;
  if (name !== undefined) job.name = name;
  if (sessionId !== undefined) job.sessionId = sessionId;

  const hex = pooledTraceAndSpanHex();
  const spanId = hex.slice(32);
  const parent = o.traceparent === undefined ? undefined : parseTraceparent(o.traceparent);
  if (!parent) {
    if (o.traceparent !== undefined) issues.push('traceparent: not a valid W3C traceparent; the attempt starts a new trace');
    return { job, trace: { traceId: hex.slice(0, 32), spanId } };
  }
  return { job, trace: { traceId: parent.traceId, spanId, parentSpanId: parent.spanId, sampled: parent.sampled } };
}
