import type { StreamEntry } from '../bus/index.js';

/**
 * Settle counting per stream entry, for one sink loop. A packed entry holds several events,
 * each handled on its own (written in any batch, bisected, retried, dead-lettered), but the
 * group acknowledges entries: an entry may be acknowledged only when every one of its events
 * is settled in this loop, confirmed by the sink or dead-lettered. Partial confirmations never
 * acknowledge an entry whose other events are still unconfirmed.
 *
 * The count lives beside the StreamEntry object the loop read (a WeakMap keyed by it): an
 * entry read again (after an error, a rewind, a claim) is a new object and starts fresh, as
 * its events are then all delivered again.
 */

/** One event's place: its entry, its index there, and how many events the entry holds. */
export interface EntrySlot {
  entry: StreamEntry;
  /** Index of the event in its entry (0 for a single-event entry). */
  part: number;
  /** Events in the entry (1 for a single-event entry). */
  parts: number;
}

/** Settle counts of the entries one loop holds. */
export interface EntryTally {
  /**
   * Marks the event in `slot` settled: `confirmed` by the sink, or not (dead-lettered). When
   * this settles the entry's last event, returns how many of the entry's events the sink
   * confirmed (the entry may now be acknowledged); otherwise undefined. Settling an event
   * twice counts once.
   */
  settle(slot: EntrySlot, confirmed: boolean): number | undefined;
}

/** Creates an {@link EntryTally}. */
export function createEntryTally(): EntryTally {
  const open = new WeakMap<StreamEntry, { done: Set<number>; confirmed: number }>();
  return {
    settle(slot, confirmed) {
      if (slot.parts <= 1) return confirmed ? 1 : 0;
      let t = open.get(slot.entry);
      if (!t) open.set(slot.entry, (t = { done: new Set(), confirmed: 0 }));
      if (t.done.has(slot.part)) return undefined;
      t.done.add(slot.part);
      if (confirmed) t.confirmed++;
      if (t.done.size < slot.parts) return undefined;
      open.delete(slot.entry);
      return t.confirmed;
    },
  };
}
