import { wholeEventJson } from './event-encoder.js';
import type { Pack } from './pack.js';

/**
 * What waits for Redis in memory: encoded events, packed (see pack.ts), in a FIFO of packs
 * with event and byte counts. An array with a moving head: `take` is O(batch), not O(length)
 * like `Array#shift`. The bound itself is enforced by the publisher, which decides what to do
 * past it.
 */

/** One encoded event on its way to a stream. */
export interface PendingEntry {
  /** Stream key (the shard of the event's job). */
  stream: string;
  /**
   * The event: its own members (see event-encoder.ts) when `shared` is set, else the whole
   * event JSON (an event read back from the spool, or built by other code).
   */
  json: string;
  /** Members every event of the producer shares (`"source":…,"producer":…`); unset when `json` is whole. */
  shared?: string | undefined;
  /** Members of the event's job attempt (`"job":…,"trace":…`), when `shared` is set and the event has a job. */
  attempt?: string | undefined;
  /**
   * Characters the event counts against the memory bound: the whole event's, although the
   * attempt and shared parts are held once for many events (a bound, not a measure).
   */
  bytes: number;
  /** The event's producer and seq: Redis skips a (producer, seq) it already has (see batch-writer.ts). */
  producer: string;
  seq: number;
}

/** The whole event JSON of a pending entry. */
export function wholeJson(e: PendingEntry): string {
  return e.shared === undefined ? e.json : wholeEventJson(e.json, e.shared, e.attempt);
}

/** A FIFO of closed {@link Pack}s, counting their events and bytes. */
export interface PackBuffer {
  /** Packs held. */
  readonly packs: number;
  /** Events in those packs. */
  readonly events: number;
  readonly bytes: number;
  push(pack: Pack): void;
  /** Puts packs back in front, in order (they are older than everything held). */
  unshift(packs: readonly Pack[]): void;
  /** Removes and returns the oldest packs, as many as hold at most `maxEvents` events (at least one pack). */
  take(maxEvents: number): Pack[];
}

/** Creates an empty {@link PackBuffer}. */
export function createPackBuffer(): PackBuffer {
  let items: Pack[] = [];
  let head = 0;
  let events = 0;
  let bytes = 0;
  return {
    get packs() {
      return items.length - head;
    },
    get events() {
      return events;
    },
    get bytes() {
      return bytes;
    },
    push(pack) {
      items.push(pack);
      events += pack.count;
      bytes += pack.bytes;
    },
    unshift(packs) {
      items = [...packs, ...items.slice(head)];
      head = 0;
      for (const p of packs) {
        events += p.count;
        bytes += p.bytes;
      }
    },
    take(maxEvents) {
      let end = head;
      let n = 0;
      while (end < items.length && (end === head || n + items[end]!.count <= maxEvents)) n += items[end++]!.count;
      const out = items.slice(head, end);
      head = end;
      for (const p of out) {
        events -= p.count;
        bytes -= p.bytes;
      }
      if (head === items.length) {
        items = [];
        head = 0;
      } else if (head > 1024 && head * 2 > items.length) {
        items = items.slice(head);
        head = 0;
      }
      return out;
    },
  };
}
