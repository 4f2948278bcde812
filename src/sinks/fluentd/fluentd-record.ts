import { genAiAttributes, type JobscopeEvent } from '../../events/index.js';

/** A flat Fluentd record: top-level keys only, values scalar or arrays of scalars. */
export type FluentdRecord = Record<string, string | number | boolean | null | readonly (string | number)[]>;

/** `<prefix>.<serviceType>.<eventType>`, e.g. `jobscope.comfyui.job.completed`. */
export function fluentdTag(prefix: string, event: JobscopeEvent): string {
  return `${prefix}.${event.source.serviceType}.${event.type}`;
}

/** `durationMs` → `duration_ms`. */
function snakeCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** Copies `value` into `out`, nested objects as `parent_child` keys (`error.type` → `error_type`). */
function flattenInto(out: FluentdRecord, prefix: string, value: unknown, depth = 0): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object') {
    out[prefix] = value as string | number | boolean | null;
    return;
  }
  if (Array.isArray(value)) {
    out[prefix] = value.filter((v) => typeof v === 'string' || typeof v === 'number') as (string | number)[];
    return;
  }
  if (depth > 4) {
    out[prefix] = JSON.stringify(value);
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    flattenInto(out, prefix ? `${prefix}_${snakeCase(k)}` : snakeCase(k), v, depth + 1);
  }
}

/**
 * The event as the flat record Fluentd stores: identity, job and trace ids, level and message
 * first, then the type's data (snake_case, nested objects joined with `_`: `error_type`,
 * `error_message`), the AI usage under its OpenTelemetry GenAI names (`gen_ai.request.model`, …)
 * and free-form attributes as `attrs.<name>`. Every record carries `event_id`, so duplicates
 * from at-least-once delivery can be removed downstream. Fixed fields win over data keys.
 */
export function toFluentdRecord(event: JobscopeEvent): FluentdRecord {
  const record: FluentdRecord = {};
  flattenInto(record, '', event.data);
  Object.assign(record, genAiAttributes(event.ai));
  for (const [k, v] of Object.entries(event.attrs ?? {})) record[`attrs.${k}`] = v;
  const fixed: Record<string, string | number | boolean | undefined> = {
    event_id: event.id,
    event_type: event.type,
    schema_version: event.v,
    time_ms: event.time,
    level: event.level,
    message: event.message,
    machine_id: event.source.machineId,
    worker_id: event.source.workerId,
    service_type: event.source.serviceType,
    connector_id: event.source.connectorId,
    instance: event.source.instance,
    job_id: event.job?.id,
    attempt: event.job?.attempt,
    queue: event.job?.queue,
    job_name: event.job?.name,
    session_id: event.job?.sessionId,
    trace_id: event.trace?.traceId,
    span_id: event.trace?.spanId,
    parent_span_id: event.trace?.parentSpanId,
    producer: event.producer,
    seq: event.seq,
  };
  for (const [k, v] of Object.entries(fixed)) if (v !== undefined) record[k] = v;
  return record;
}
