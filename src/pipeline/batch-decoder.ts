import { decodeEntryEvents, packedEventCount, type JobscopeEvent } from '../events/index.js';
import type { DeadLetterCode, DeadLetterItem, StreamEntry } from '../bus/index.js';
import type { DecodeCache } from './decode-cache.js';
import type { EntrySlot } from './entry-tally.js';

/**
 * Turns the entries a read returned into events the sink can write, and sorts out what must
 * not reach the sink: entries that cannot be read as a whole (bad version, bad UTF-8, too
 * large: dead-lettered whole at once, with the reason), events that fail to decode
 * (dead-lettered alone at once, with the validation message; the other events of a packed
 * entry go on), events of entries delivered more than `maxDeliveries` times to consumers that
 * never confirmed them (they crash or hang whoever touches them), and entries deleted while
 * pending.
 *
 * A packed entry becomes one {@link HeldEntry} per event, all sharing the entry's StreamEntry
 * object, each with its index: sinks receive events, never entries.
 */

/** Where one event sits: its entry, its index there, how many events the entry holds, and its form. */
export interface EventSlot extends EntrySlot {
  /** True when the entry is packed (`b`): the event is dead-lettered alone, not the entry. */
  packed: boolean;
}

/** One event being handled by a sink loop: where it sits, and its decoded form. */
export interface HeldEntry extends EventSlot {
  event: JobscopeEvent;
  /**
   * Deliveries of this event: its entry's count when read, plus the failures of this event
   * counted since (an entry's other events may fail less often).
   */
  deliveries: number;
}

/** One event to dead-letter on its own (for a single-event entry, that is the entry). */
export interface EventDeadLetter {
  slot: EventSlot;
  code: DeadLetterCode;
  reason: string;
  eventId?: string;
  deliveries: number;
}

/**
 * What must not reach the sink: an entry that cannot be read as a whole (a {@link DeadLetterItem},
 * dead-lettered whole, its fields byte for byte), or one event (an {@link EventDeadLetter}).
 */
export type Undeliverable = DeadLetterItem | EventDeadLetter;

/** What {@link decodeBatch} sorted out. */
export interface DecodedBatch {
  held: HeldEntry[];
  /** What to dead-letter at once, in stream order. */
  deadLetters: Undeliverable[];
  /** Pending entries whose payload is gone from the stream: nothing to deliver, acknowledge them. */
  gone: StreamEntry[];
  /** Entries read that still had their payload. */
  entries: number;
  /** Events those entries hold (an unreadable packed entry counts its lines, any other one 1). */
  events: number;
}

/** Decodes a batch of entries; with `cache`, reuses what another sink loop already decoded. */
export function decodeBatch(entries: readonly StreamEntry[], maxDeliveries: number, cache?: DecodeCache): DecodedBatch {
  const out: DecodedBatch = { held: [], deadLetters: [], gone: [], entries: 0, events: 0 };
  for (const entry of entries) {
    if (entry.fields === null) {
      out.gone.push(entry);
      continue;
    }
    out.entries++;
    const decoded = decodeCached(entry, entry.fields, cache);
    if (!decoded.ok) {
      out.events += packedEventCount(entry.fields) ?? 1;
      const item: DeadLetterItem = { entry, code: 'invalid', reason: decoded.reason };
      if (decoded.eventId !== undefined) item.eventId = decoded.eventId;
      out.deadLetters.push(item);
      continue;
    }
    const { parts, packed } = decoded;
    out.events += parts.length;
    const { deliveries } = entry;
    parts.forEach((result, part) => {
      const slot: EventSlot = { entry, part, parts: parts.length, packed };
      if (!result.ok) {
        const dl: EventDeadLetter = { slot, code: 'invalid', reason: result.reason, deliveries };
        if (result.eventId !== undefined) dl.eventId = result.eventId;
        out.deadLetters.push(dl);
      } else if (deliveries > maxDeliveries) {
        out.deadLetters.push({
          slot,
          code: 'max_deliveries',
          eventId: result.event.id,
          deliveries,
          reason: `delivered ${deliveries} times without being confirmed (limit ${maxDeliveries}); the consumers that took it crashed or hung`,
        });
      } else {
        out.held.push({ ...slot, event: result.event, deliveries });
      }
    });
  }
  return out;
}

function decodeCached(entry: StreamEntry, fields: Buffer[], cache: DecodeCache | undefined): ReturnType<typeof decodeEntryEvents> {
  const cached = cache?.get(entry.stream, entry.id);
  if (cached) return cached;
  const decoded = decodeEntryEvents(fields);
  // Only entries with something to deliver: an entry of failures alone is dead-lettered once.
  if (decoded.ok && decoded.parts.some((p) => p.ok)) cache?.set(entry.stream, entry.id, decoded);
  return decoded;
}
