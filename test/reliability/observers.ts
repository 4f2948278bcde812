import type { Redis } from 'ioredis';
import { deadLetterStreamKey, ENTRY_FIELDS } from '../../src/events/index.js';
import { createStatusReader } from '../../src/status/status-reader.js';
import type { FluentPeer } from '../helpers/fluent-peer.js';
import type { OtlpReceiver } from '../helpers/otlp-receiver.js';
import type { SentryEndpoint } from '../helpers/sentry-endpoint.js';
import { countIds, type Deliveries } from './oracle.js';

/**
 * What each sink's real peer received, as event id → times seen, and what the dead-letter
 * stream holds. Each observer reads the peer the way a user would look: Fluentd records by
 * `event_id`, OTLP spans by `jobscope.event.id`, Sentry events by their job context, the
 * status store's job timelines, the recording sink's Redis hash.
 */

/** Fluentd: records by `event_id`. */
export function fluentDeliveries(peer: FluentPeer): Deliveries {
  return peer.countsById();
}

/** OTLP: attempt spans by `jobscope.event.id` (the terminal event of the attempt). */
export function otlpDeliveries(receiver: OtlpReceiver): Deliveries {
  const ids: string[] = [];
  for (const s of receiver.spans) {
    const id = s.attributes['jobscope.event.id'];
    if (typeof id === 'string') ids.push(id);
  }
  return countIds(ids);
}

/** Sentry: error events by the Jobscope event id in their `job` context. */
export function sentryDeliveries(endpoint: SentryEndpoint): Deliveries {
  const ids: string[] = [];
  for (const e of endpoint.events) {
    const job = (e.contexts as { job?: { jobscope_event_id?: unknown } } | undefined)?.job;
    if (typeof job?.jobscope_event_id === 'string') ids.push(job.jobscope_event_id);
  }
  return countIds(ids);
}

/** The recording sink: its Redis hash of event id → deliveries. */
export async function recordedDeliveries(redis: Redis, countsKey: string): Promise<Deliveries> {
  const raw = await redis.hgetall(countsKey);
  return new Map(Object.entries(raw).map(([id, n]) => [id, Number(n)]));
}

/** The status store: every event id on the timelines of `jobIds` (the store applies each event once). */
export async function statusDeliveries(redis: Redis, prefix: string, jobIds: Iterable<string>): Promise<Deliveries> {
  const reader = createStatusReader({ redis, prefix });
  const ids: string[] = [];
  for (const jobId of new Set(jobIds)) for (const t of await reader.getTimeline(jobId)) ids.push(t.eventId);
  return countIds(ids);
}

/**
 * One dead-letter entry, as the pipeline wrote it. A record holds one event (a single-event
 * entry, or one event of a packed entry, with `part`) or a whole packed entry that could not
 * be read (`orig.b`: every event of it is dead-lettered).
 */
export interface DeadLetterRecord {
  sink: string;
  code: string;
  reason: string;
  /** The source entry id (shared by the records of the events of one packed entry). */
  id: string;
  eventId?: string;
  /** The event's index in its packed entry, for a record of one event of a packed entry. */
  part?: number;
  /** The ids of the events the record holds, as far as they can be read. */
  eventIds: string[];
}

/** The `id` of an event JSON text, when it has a readable one. */
function idOf(json: string): string | undefined {
  try {
    const id = (JSON.parse(json) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the whole dead-letter stream of `prefix`, in pages. */
export async function readDeadLetters(redis: Redis, prefix: string): Promise<DeadLetterRecord[]> {
  const key = deadLetterStreamKey({ prefix });
  const out: DeadLetterRecord[] = [];
  let start = '-';
  for (;;) {
    const rows = await redis.xrange(key, start, '+', 'COUNT', 2000);
    for (const [, fields] of rows) {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      const packed = f[`orig.${ENTRY_FIELDS.packed}`];
      // A whole packed entry holds every one of its lines; any other record one event.
      const lines = packed === undefined ? [f[`orig.${ENTRY_FIELDS.event}`] ?? ''] : packed.split('\n');
      const ids = f.eventId ? [f.eventId] : lines.map(idOf).filter((id): id is string => id !== undefined);
      const rec: DeadLetterRecord = { sink: f.sink ?? '', code: f.code ?? '', reason: f.reason ?? '', id: f.id ?? '', eventIds: ids };
      if (f.eventId) rec.eventId = f.eventId;
      if (f.part !== undefined) rec.part = Number(f.part);
      out.push(rec);
    }
    if (rows.length < 2000) return out;
    start = `(${rows[rows.length - 1]![0]}`;
  }
}

/** The event ids a sink dead-lettered: one per record of one event, every readable one of a whole packed entry. */
export function deadLetteredIds(records: readonly DeadLetterRecord[], sink: string): Set<string> {
  return new Set(records.filter((r) => r.sink === sink).flatMap((r) => r.eventIds));
}
