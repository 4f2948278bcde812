/**
 * The in-memory FIFO of encoded events waiting for Redis, with event and byte counts.
 * An array with a moving head: `take` is O(batch), not O(length) like `Array#shift`.
 * The bound itself is enforced by the publisher, which decides what to do past it.
 */

/** One encoded event on its way to a stream. */
export interface PendingEntry {
  /** Stream key (the shard of the event's job). */
  stream: string;
  /** The event JSON (field `e` of the entry). */
  json: string;
  /** UTF-8 size of `json`, in bytes. */
  bytes: number;
  /** The event's producer and seq: Redis skips a (producer, seq) it already has (see batch-writer.ts). */
  producer: string;
  seq: number;
}

/** A FIFO of {@link PendingEntry}, counting events and bytes. */
export interface EventBuffer {
  readonly length: number;
  readonly bytes: number;
  push(entry: PendingEntry): void;
  /** The entry `i` places from the oldest, without removing it. */
  at(i: number): PendingEntry | undefined;
  /** Removes and returns up to `max` of the oldest entries. */
  take(max: number): PendingEntry[];
}

/** Creates an empty {@link EventBuffer}. */
export function createEventBuffer(): EventBuffer {
  let items: PendingEntry[] = [];
  let head = 0;
  let bytes = 0;
  return {
    get length() {
      return items.length - head;
    },
    get bytes() {
      return bytes;
    },
    push(entry) {
      items.push(entry);
      bytes += entry.bytes;
    },
    at(i) {
      return items[head + i];
    },
    take(max) {
      const end = Math.min(items.length, head + Math.max(0, max));
      const out = items.slice(head, end);
      head = end;
      for (const e of out) bytes -= e.bytes;
      if (head === items.length) {
        items = [];
        head = 0;
      } else if (head > 4096 && head * 2 > items.length) {
        items = items.slice(head);
        head = 0;
      }
      return out;
    },
  };
}
