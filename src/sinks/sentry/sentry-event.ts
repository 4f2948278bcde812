import { defaultStackParser, type Breadcrumb, type Event, type SeverityLevel } from '@sentry/node';
import { identityPath, type EventOf } from '../../events/index.js';
import type { FingerprintPart } from '../../config/sentry-config.js';
import type { TimelineCrumb } from './breadcrumb-store.js';
import { buildFingerprint } from './fingerprint.js';

/** A failure the Sentry sink reports. */
export type FailedEvent = EventOf<'job.failed'>;

/**
 * Sentry's event id for a Jobscope event: the UUIDv7 without dashes (32 hex). Deterministic,
 * so a redelivered failure reuses the id and Sentry keeps one event.
 */
export function sentryEventId(jobscopeEventId: string): string {
  return jobscopeEventId.replace(/-/g, '');
}

const LEVELS: Record<TimelineCrumb['level'], SeverityLevel> = { debug: 'debug', info: 'info', warn: 'warning', error: 'error' };

function toBreadcrumb(c: TimelineCrumb): Breadcrumb {
  const text = `${c.type} (attempt ${c.attempt})${c.message ? `: ${c.message}` : ''}`;
  const crumb: Breadcrumb = { timestamp: c.time / 1000, category: 'job', type: 'default', level: LEVELS[c.level], message: text };
  if (c.data) crumb.data = c.data;
  return crumb;
}

function tagsOf(event: FailedEvent): Record<string, string> {
  const tags: Record<string, string> = {
    machine_id: event.source.machineId,
    worker_id: event.source.workerId,
    service_type: event.source.serviceType,
    connector_id: event.source.connectorId,
    error_type: event.data.error.category,
    attempt: String(event.job.attempt),
  };
  if (event.job.queue) tags.queue = event.job.queue;
  if (event.job.name) tags.job_name = event.job.name;
  if (event.ai?.model) tags.model = event.ai.model;
  if (event.data.willRetry !== undefined) tags.final = String(!event.data.willRetry);
  return tags;
}

/** The `job` context: what a triager needs about the job without opening Jobscope. */
function jobContext(event: FailedEvent, earlier: TimelineCrumb[]): Record<string, unknown> {
  const sameAttempt = earlier.filter((c) => c.attempt === event.job.attempt);
  // The run that failed: an attempt number can have several (a job id re-added, or retried with its
  // attempts reset, counts from 1 again), one after the other, so its receive is the latest one
  // (earlier holds what came before the failure), and its start one after that receive.
  const receivedCrumb = sameAttempt.findLast((c) => c.type === 'job.received');
  const from = receivedCrumb?.time ?? Number.NEGATIVE_INFINITY;
  const received = receivedCrumb?.data;
  const started = sameAttempt.find((c) => c.type === 'job.started' && c.time >= from)?.data;
  const ctx: Record<string, unknown> = {
    id: event.job.id,
    attempt: event.job.attempt,
    queue: event.job.queue,
    name: event.job.name,
    duration_ms: event.data.durationMs,
    queue_wait_ms: started?.queueWaitMs ?? received?.queueWaitMs,
    input_size: received?.inputSize,
    will_retry: event.data.willRetry,
    error_type: event.data.error.type,
    error_code: event.data.error.code,
    identity: identityPath(event.source),
    jobscope_event_id: event.id,
    trace_id: event.trace?.traceId,
  };
  if (event.ai) Object.assign(ctx, { model: event.ai.model, provider: event.ai.provider, cost_usd: event.ai.costUsd });
  for (const k of Object.keys(ctx)) if (ctx[k] === undefined) delete ctx[k];
  return ctx;
}

/**
 * Turns a `job.failed` event into a Sentry error event: exception with parsed frames, tags,
 * `job` and `trace` contexts, breadcrumbs from the job's earlier events and a fingerprint.
 */
export function buildSentryEvent(event: FailedEvent, timeline: TimelineCrumb[], fingerprint: readonly FingerprintPart[]): Event {
  const err = event.data.error;
  const earlier = timeline.filter((c) => c.eventId !== event.id && c.time <= event.time);
  const frames = err.stack ? defaultStackParser(err.stack) : [];
  const sentryEvent: Event = {
    event_id: sentryEventId(event.id),
    timestamp: event.time / 1000,
    level: 'error',
    platform: 'node',
    logger: 'jobscope',
    server_name: event.source.machineId,
    transaction: event.job.name ?? event.job.queue ?? event.source.serviceType,
    exception: {
      values: [
        {
          type: err.type,
          value: err.message,
          mechanism: { type: 'jobscope.job_failed', handled: false },
          ...(frames.length > 0 ? { stacktrace: { frames } } : {}),
        },
      ],
    },
    tags: tagsOf(event),
    contexts: { job: jobContext(event, earlier) },
    fingerprint: buildFingerprint(event, fingerprint),
    breadcrumbs: earlier.map(toBreadcrumb),
  };
  if (event.trace) {
    const { traceId, spanId, parentSpanId } = event.trace;
    sentryEvent.contexts!.trace = {
      trace_id: traceId,
      span_id: spanId,
      op: 'queue.process',
      status: 'internal_error',
      ...(parentSpanId ? { parent_span_id: parentSpanId } : {}),
    };
  }
  if (event.attrs) sentryEvent.extra = { ...event.attrs };
  return sentryEvent;
}
