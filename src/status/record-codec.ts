import type { AiUsage, ErrorInfo, EventType } from '../events/index.js';
import {
  JOB_STATES,
  type FeedEntry,
  type JobRecord,
  type JobState,
  type TimelineEntry,
  type WorkerRecord,
} from './types.js';
import { workerLiveness, type LivenessOptions } from './worker-liveness.js';

/**
 * Turns the store's raw Redis values (hash fields, list items, stream fields — all strings)
 * into the typed records of src/status/types.ts. Tolerant: a field that does not parse is left
 * out rather than failing the whole read.
 */

type Hash = Record<string, string>;

function num(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function json<T>(v: string | undefined): T | undefined {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as T;
  } catch {
    return undefined;
  }
}

/** Sets `key` on `target` when `value` is defined (keeps records free of undefined fields). */
function put<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

function usageOf(h: Hash): AiUsage | undefined {
  const ai: AiUsage = {};
  put(ai, 'model', h.model);
  put(ai, 'provider', h.provider);
  put(ai, 'operation', h.operation);
  put(ai, 'inputTokens', num(h.inputTokens));
  put(ai, 'outputTokens', num(h.outputTokens));
  put(ai, 'cachedTokens', num(h.cachedTokens));
  put(ai, 'reasoningTokens', num(h.reasoningTokens));
  put(ai, 'timeToFirstTokenMs', num(h.timeToFirstTokenMs));
  const gpu = num(h.gpuSeconds);
  if (gpu !== undefined) ai.gpuSeconds = Math.round(gpu * 1e9) / 1e9;
  // Sums of floats drift in the last digits (0.1 + 0.2); a billion-th of a dollar is enough.
  const cost = num(h.costUsd);
  if (cost !== undefined) ai.costUsd = Math.round(cost * 1e9) / 1e9;
  return Object.keys(ai).length > 0 ? ai : undefined;
}

function stateOf(v: string | undefined): JobState {
  return (JOB_STATES as readonly string[]).includes(v ?? '') ? (v as JobState) : 'received';
}

/** A job hash as a {@link JobRecord}; undefined when the hash is empty (unknown or expired job). */
export function parseJobRecord(h: Hash): JobRecord | undefined {
  if (h.id === undefined) return undefined;
  const r: JobRecord = {
    id: h.id,
    state: stateOf(h.state),
    attempt: num(h.attempt) ?? 1,
    machineId: h.machineId ?? '',
    workerId: h.workerId ?? '',
    serviceType: h.serviceType ?? '',
    connectorId: h.connectorId ?? '',
    updatedAt: num(h.updatedAt) ?? 0,
    lastEventId: h.lastEventId ?? '',
    lastEventType: (h.lastEventType ?? 'log') as EventType,
    eventCount: num(h.eventCount) ?? 0,
  };
  put(r, 'queue', h.queue);
  put(r, 'name', h.name);
  put(r, 'instance', h.instance);
  for (const f of ['enqueuedAt', 'receivedAt', 'startedAt', 'finishedAt', 'durationMs', 'queueWaitMs'] as const) {
    put(r, f, num(h[f]));
  }
  put(r, 'progress', num(h.progress));
  put(r, 'stage', h.stage);
  put(r, 'ai', usageOf(h));
  put(r, 'lastError', json<ErrorInfo>(h.lastError));
  if (h.willRetry !== undefined) r.willRetry = h.willRetry === 'true';
  put(r, 'nextAttempt', num(h.nextAttempt));
  put(r, 'traceId', h.traceId);
  put(r, 'spanId', h.spanId);
  return r;
}

/** One timeline list item; undefined when it is not readable JSON. */
export function parseTimelineEntry(item: string): TimelineEntry | undefined {
  const e = json<TimelineEntry>(item);
  return e && typeof e.eventId === 'string' && typeof e.time === 'number' ? e : undefined;
}

/** A feed stream entry (`[id, [field, value, …]]`) as a {@link FeedEntry}. */
export function parseFeedEntry(id: string, fields: readonly string[]): FeedEntry {
  const f: Hash = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  const entry: FeedEntry = {
    id,
    kind: f.kind === 'worker' ? 'worker' : 'job',
    eventId: f.eventId ?? '',
    eventType: (f.eventType ?? 'log') as EventType,
    time: num(f.time) ?? 0,
    machineId: f.machineId ?? '',
    workerId: f.workerId ?? '',
    serviceType: f.serviceType ?? '',
    connectorId: f.connectorId ?? '',
  };
  put(entry, 'jobId', f.jobId);
  if (f.state !== undefined) entry.state = stateOf(f.state);
  put(entry, 'attempt', num(f.attempt));
  put(entry, 'progress', num(f.progress));
  // Absent, not false, when the entry does not say (older entries, or an event that did not know).
  if (f.willRetry !== undefined) entry.willRetry = f.willRetry === 'true';
  return entry;
}

/** A worker hash and its current jobs as a {@link WorkerRecord}; undefined when the hash is empty. */
export function parseWorkerRecord(h: Hash, currentJobs: string[], liveness: LivenessOptions): WorkerRecord | undefined {
  if (h.machineId === undefined || h.workerId === undefined) return undefined;
  const w: Omit<WorkerRecord, 'liveness'> = {
    machineId: h.machineId,
    workerId: h.workerId,
    serviceType: h.serviceType ?? '',
    connectorId: h.connectorId ?? '',
    currentJobs: currentJobs.sort(),
  };
  put(w, 'instance', h.instance);
  for (const f of ['startedAt', 'stoppedAt', 'lastHeartbeatAt', 'heartbeatIntervalMs', 'lastSeenAt'] as const) {
    put(w, f, num(h[f]));
  }
  put(w, 'version', h.version);
  put(w, 'pid', num(h.pid));
  put(w, 'concurrency', num(h.concurrency));
  put(w, 'lastEventId', h.lastEventId);
  put(w, 'lastEventType', h.lastEventType as EventType | undefined);
  return { ...w, liveness: workerLiveness(w, liveness) };
}
