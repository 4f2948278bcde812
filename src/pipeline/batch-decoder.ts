import { decodeEntry, type JobscopeEvent } from '../events/index.js';
import type { DeadLetterItem, StreamEntry } from '../bus/index.js';
import type { DecodeCache } from './decode-cache.js';

/**
 * Turns the entries a read returned into events the sink can write, and sorts out what must
 * not reach the sink: entries that fail to decode (dead-lettered at once, with the validation
 * message), entries delivered more than `maxDeliveries` times to consumers that never
 * confirmed them (they crash or hang whoever touches them), and entries deleted while pending.
 */

/** An entry being handled by a sink loop, with its decoded event. */
export interface HeldEntry {
  entry: StreamEntry;
  event: JobscopeEvent;
}

/** What {@link decodeBatch} sorted out. */
export interface DecodedBatch {
  held: HeldEntry[];
  deadLetters: DeadLetterItem[];
  /** Pending entries whose payload is gone from the stream: nothing to deliver, acknowledge them. */
  gone: StreamEntry[];
}

/** Decodes a batch of entries; with `cache`, reuses what another sink loop already decoded. */
export function decodeBatch(entries: readonly StreamEntry[], maxDeliveries: number, cache?: DecodeCache): DecodedBatch {
  const out: DecodedBatch = { held: [], deadLetters: [], gone: [] };
  for (const entry of entries) {
    if (entry.fields === null) {
      out.gone.push(entry);
      continue;
    }
    const cached = cache?.get(entry.stream, entry.id);
    const decoded = cached ? { ok: true as const, event: cached } : decodeEntry(entry.fields);
    if (decoded.ok && !cached) cache?.set(entry.stream, entry.id, decoded.event);
    if (!decoded.ok) {
      const item: DeadLetterItem = { entry, code: 'invalid', reason: decoded.reason };
      if (decoded.eventId !== undefined) item.eventId = decoded.eventId;
      out.deadLetters.push(item);
    } else if (entry.deliveries > maxDeliveries) {
      out.deadLetters.push({
        entry,
        code: 'max_deliveries',
        eventId: decoded.event.id,
        reason: `delivered ${entry.deliveries} times without being confirmed (limit ${maxDeliveries}); the consumers that took it crashed or hung`,
      });
    } else {
      out.held.push({ entry, event: decoded.event });
    }
  }
  return out;
}
