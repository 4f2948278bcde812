import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { enqueueSpanIdOf, genAiAttributes, type EventOf, type JobscopeEvent } from '../../events/index.js';
import type { AttemptState } from './attempt-store.js';
import { makeReadableSpan, msToHrTime } from './readable-span.js';
import { childSpanId } from './span-ids.js';

/** The events that end an attempt and make its spans. */
export type TerminalEvent = EventOf<'job.completed'> | EventOf<'job.failed'> | EventOf<'job.cancelled'>;

/** Where the spans of one attempt are reported from. */
export interface SpanOrigin {
  resource: Resource;
  scope: InstrumentationScope;
}

/** When each phase of the attempt happened, Unix ms, filled in from the terminal event when missing. */
interface Timeline {
  receivedAt: number;
  queueWaitFrom: number;
  startedAt?: number;
  endAt: number;
}

function timelineOf(event: TerminalEvent, state: AttemptState): Timeline {
  const endAt = event.time;
  const durationMs = event.data.durationMs;
  const startedAt = state.startedAt ?? (durationMs !== undefined ? endAt - durationMs : undefined);
  const receivedAt = Math.min(state.receivedAt ?? startedAt ?? endAt, startedAt ?? endAt, endAt);
  // A first attempt's queue wait, as the runtime measured it, excludes a delayed job's delay (it
  // waited in BullMQ's delayed set, not in the queue): the wait starts that long before the start,
  // as the metrics count it; else at the enqueue. A retry's time since the first enqueue includes
  // the earlier attempts (so would a queueWaitMs a caller gave it), hence its receive time.
  const queueWaitFrom =
    event.job.attempt === 1 && state.queueWaitMs !== undefined && startedAt !== undefined
      ? startedAt - state.queueWaitMs
      : event.job.attempt === 1 && state.enqueuedAt !== undefined
        ? state.enqueuedAt
        : receivedAt;
  return { receivedAt, queueWaitFrom, startedAt, endAt };
}

/** The attributes every span of the attempt carries: ids, identity, queue. */
function baseAttributes(event: TerminalEvent): Attributes {
  const { source, job } = event;
  const attrs: Attributes = {
    'jobscope.job.id': job.id,
    'jobscope.job.attempt': job.attempt,
    'jobscope.machine.id': source.machineId,
    'jobscope.worker.id': source.workerId,
    'jobscope.service.type': source.serviceType,
    'jobscope.connector.id': source.connectorId,
    'messaging.system': 'bullmq',
    'messaging.message.id': job.id,
    'messaging.operation.type': 'process',
  };
  if (job.queue) attrs['messaging.destination.name'] = job.queue;
  if (job.name) attrs['jobscope.job.name'] = job.name;
  return attrs;
}

/** The enqueue span's: the job and queue (the enqueue was the producer's, not this worker's). */
function enqueueAttributes(job: JobRef): Attributes {
  const attrs: Attributes = { 'jobscope.job.id': job.id, 'messaging.system': 'bullmq', 'messaging.message.id': job.id, 'messaging.operation.type': 'send' };
  if (job.queue) attrs['messaging.destination.name'] = job.queue;
  if (job.name) attrs['jobscope.job.name'] = job.name;
  return attrs;
}

function attemptAttributes(event: TerminalEvent, t: Timeline, state: AttemptState): Attributes {
  // The AI usage and cost go on one span: `processing` (the inference) when the attempt started,
  // else this one. On both, tools that count GenAI spans or sum their tokens and cost per trace
  // would count every attempt twice.
  const attrs: Attributes = { ...baseAttributes(event), 'jobscope.event.id': event.id, ...(t.startedAt === undefined ? genAiAttributes(event.ai) : {}) };
  attrs['jobscope.job.outcome'] = event.type.slice(4);
  if (event.data.durationMs !== undefined) attrs['jobscope.job.duration_ms'] = event.data.durationMs;
  if (t.startedAt !== undefined) attrs['jobscope.job.queue_wait_ms'] = Math.max(0, t.startedAt - t.queueWaitFrom);
  if (state.droppedProgress > 0) attrs['jobscope.progress.dropped'] = state.droppedProgress;
  if (event.type === 'job.completed') {
    if (event.data.outputCount !== undefined) attrs['jobscope.job.output_count'] = event.data.outputCount;
    if (event.data.outputSize !== undefined) attrs['jobscope.job.output_size'] = event.data.outputSize;
  } else if (event.type === 'job.failed') {
    attrs['error.type'] = event.data.error.type;
    attrs['jobscope.error.category'] = event.data.error.category;
    if (event.data.willRetry !== undefined) attrs['jobscope.job.will_retry'] = event.data.willRetry;
  } else if (event.data.reason) {
    attrs['jobscope.job.cancel_reason'] = event.data.reason;
  }
  return attrs;
}

function progressEvents(state: AttemptState): TimedEvent[] {
  return state.progress.map((p) => {
    const attributes: Attributes = { 'jobscope.progress': p.progress };
    if (p.stage !== undefined) attributes['jobscope.progress.stage'] = p.stage;
    if (p.step !== undefined) attributes['jobscope.progress.step'] = p.step;
    if (p.totalSteps !== undefined) attributes['jobscope.progress.total_steps'] = p.totalSteps;
    return { name: 'progress', time: msToHrTime(p.time), attributes };
  });
}

function exceptionEvent(event: EventOf<'job.failed'>): TimedEvent {
  const e = event.data.error;
  const attributes: Attributes = { 'exception.type': e.type, 'exception.message': e.message };
  if (e.stack) attributes['exception.stacktrace'] = e.stack;
  if (e.code) attributes['jobscope.error.code'] = e.code;
  return { name: 'exception', time: msToHrTime(event.time), attributes };
}

/** What the enqueue span needs of a first attempt's event. */
type JobRef = NonNullable<JobscopeEvent['job']>;

/**
 * The enqueue span (`send <queue>`) of a job whose producer started its trace, which nobody else
 * exports: a root at the enqueue time, parent of every attempt (its id is enqueueSpanIdOf the
 * trace id). The sink makes it from the first attempt's `job.received`, so the trace has it even
 * when that attempt never ends (its worker died, BullMQ put the job back); in a trace the ratio
 * sampled out, from the first failure exported (of any attempt, the enqueue time read from the
 * first attempt's state). Undefined for an event without a job or trace, without an enqueue
 * time, and for a trace the caller started (the caller exports its own span).
 */
export function buildEnqueueSpan(event: JobscopeEvent, enqueuedAt: number | undefined, origin: SpanOrigin): ReadableSpan | undefined {
  const { job, trace } = event;
  if (!job || !trace || enqueuedAt === undefined) return undefined;
  if (trace.parentSpanId === undefined || trace.parentSpanId !== enqueueSpanIdOf(trace.traceId)) return undefined;
  return makeReadableSpan({
    traceId: trace.traceId,
    resource: origin.resource,
    scope: origin.scope,
    name: `send ${job.queue ?? event.source.serviceType}`,
    kind: SpanKind.PRODUCER,
    spanId: trace.parentSpanId,
    startMs: enqueuedAt,
    endMs: enqueuedAt,
    attributes: enqueueAttributes(job),
  });
}

/**
 * The spans of one attempt: the attempt span (id = the event's span id, parent = the
 * producer's span when the job carried a traceparent) and its `queue-wait` and `processing`
 * children, which have deterministic ids. Requires `event.trace`. The enqueue span is
 * {@link buildEnqueueSpan}'s.
 */
export function buildAttemptSpans(event: TerminalEvent, state: AttemptState, origin: SpanOrigin): ReadableSpan[] {
  const trace = event.trace!;
  const t = timelineOf(event, state);
  const failed = event.type === 'job.failed';
  const status = failed
    ? { code: SpanStatusCode.ERROR, message: `${event.data.error.type}: ${event.data.error.message}`.slice(0, 1024) }
    : event.type === 'job.completed'
      ? { code: SpanStatusCode.OK }
      : { code: SpanStatusCode.UNSET };
  const common = { traceId: trace.traceId, resource: origin.resource, scope: origin.scope };
  const base = baseAttributes(event);
  const spans = [
    makeReadableSpan({
      ...common,
      name: `process ${event.job.queue ?? event.source.serviceType}`,
      kind: SpanKind.CONSUMER,
      spanId: trace.spanId,
      parentSpanId: trace.parentSpanId,
      startMs: t.receivedAt,
      endMs: t.endAt,
      attributes: attemptAttributes(event, t, state),
      events: [...progressEvents(state), ...(failed ? [exceptionEvent(event)] : [])],
      status,
    }),
  ];
  if (t.startedAt !== undefined) {
    spans.push(
      makeReadableSpan({
        ...common,
        name: 'queue-wait',
        spanId: childSpanId(trace.spanId, 'queue-wait'),
        parentSpanId: trace.spanId,
        startMs: Math.min(t.queueWaitFrom, t.startedAt),
        endMs: t.startedAt,
        attributes: base,
      }),
      makeReadableSpan({
        ...common,
        name: 'processing',
        spanId: childSpanId(trace.spanId, 'processing'),
        parentSpanId: trace.spanId,
        startMs: t.startedAt,
        endMs: t.endAt,
        attributes: { ...base, ...genAiAttributes(event.ai) },
        status: failed ? status : { code: SpanStatusCode.UNSET },
      }),
    );
  }
  return spans;
}
