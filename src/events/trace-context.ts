import { randomBytes } from 'node:crypto';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): ids and the `traceparent` header.
 * Jobscope gives every job attempt a trace; when the code that enqueued the job passed its own
 * `traceparent`, the attempt joins that trace so enqueue → run is one trace.
 */

/** 32 lower-case hex characters, not all zero. */
export const TRACE_ID_PATTERN = /^(?!0{32})[0-9a-f]{32}$/;
/** 16 lower-case hex characters, not all zero. */
export const SPAN_ID_PATTERN = /^(?!0{16})[0-9a-f]{16}$/;

const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The parts of a `traceparent` header. */
export interface TraceParent {
  traceId: string;
  /** The caller's span: becomes the parent of the job attempt's span. */
  spanId: string;
  sampled: boolean;
}

/** A new random trace id. */
export function createTraceId(): string {
  return randomBytes(16).toString('hex');
}

/** A new random span id. */
export function createSpanId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * The span id of the enqueue of a job that starts a trace of its own (the producer had no
 * caller's span to join): the trace id's first 16 hex digits. Nothing else exports that span;
 * the OpenTelemetry sink does, with the job's first attempt, so the trace has its root and the
 * attempts' parent is a span the backend knows. A caller's span never has this id, but by a
 * chance of 2^-64.
 */
export function enqueueSpanIdOf(traceId: string): string {
  return traceId.slice(0, 16);
}

/** A new trace for an enqueue: a trace id and its enqueue span id ({@link enqueueSpanIdOf}), both valid. */
export function createEnqueueTrace(): { traceId: string; spanId: string } {
  for (;;) {
    const traceId = createTraceId();
    const spanId = enqueueSpanIdOf(traceId);
    if (SPAN_ID_PATTERN.test(spanId)) return { traceId, spanId };
  }
}

/**
 * Parses a `traceparent` header value; returns `undefined` for anything malformed, as the
 * spec asks receivers to do (start a new trace rather than fail).
 */
export function parseTraceparent(value: string | undefined | null): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT_PATTERN.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff') return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  if (!TRACE_ID_PATTERN.test(traceId!) || !SPAN_ID_PATTERN.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

/** Formats a version-00 `traceparent` header value. */
export function formatTraceparent(traceId: string, spanId: string, sampled = true): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}
