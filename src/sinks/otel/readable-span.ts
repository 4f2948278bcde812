import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type SpanStatus } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/**
 * Builds a finished `ReadableSpan` from known ids and times. The sink never runs a tracer:
 * the spans describe work that already happened elsewhere, with timestamps from the events.
 */

/** Everything one span is made of. Times are Unix ms. */
export interface SpanSpec {
  name: string;
  kind?: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  startMs: number;
  endMs: number;
  attributes?: Attributes;
  events?: TimedEvent[];
  status?: SpanStatus;
  resource: Resource;
  scope: InstrumentationScope;
}

/** Unix ms → OTel HrTime `[seconds, nanoseconds]`. */
export function msToHrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** Makes a finished span; an end before the start is clamped to the start. */
export function makeReadableSpan(spec: SpanSpec): ReadableSpan {
  const endMs = Math.max(spec.endMs, spec.startMs);
  const context = { traceId: spec.traceId, spanId: spec.spanId, traceFlags: TraceFlags.SAMPLED };
  return {
    name: spec.name,
    kind: spec.kind ?? SpanKind.INTERNAL,
    spanContext: () => context,
    parentSpanContext: spec.parentSpanId
      ? { traceId: spec.traceId, spanId: spec.parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true }
      : undefined,
    startTime: msToHrTime(spec.startMs),
    endTime: msToHrTime(endMs),
    duration: msToHrTime(endMs - spec.startMs),
    status: spec.status ?? { code: SpanStatusCode.UNSET },
    attributes: spec.attributes ?? {},
    links: [],
    events: spec.events ?? [],
    ended: true,
    resource: spec.resource,
    instrumentationScope: spec.scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}
