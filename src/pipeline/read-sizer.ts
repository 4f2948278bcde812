import { MAX_EVENTS_PER_ENTRY } from '../events/index.js';

/**
 * How many stream entries a sink loop asks for per read (the XREADGROUP / XAUTOCLAIM COUNT),
 * so that the events they expand to stay near the write batch size. A packed entry holds up to
 * {@link MAX_EVENTS_PER_ENTRY} events, so a read of `batchSize` entries could hold 64 times what
 * a loop means to hold. The count follows the events per entry seen in recent reads (a
 * weighted average, each earlier read weighing half as much as the next):
 * `max(1, floor(batchSize / average))`.
 *
 * Before the first read it assumes one event per entry, so a stream of single-event entries
 * reads exactly as it did before packing existed. The price: the first read of a loop (and a
 * read just after the stream changes from single to packed entries) may expand to up to
 * 64 × `batchSize` events (Jobscope producers pack up to 64). The loop cuts that into write batches of at most `batchSize` and
 * reads nothing more until they are written, and the next read is sized down.
 */

/** Weight kept by earlier reads at each new read. */
const DECAY = 0.5;

/** Sizes reads from the events per entry seen. */
export interface ReadSizer {
  /** Entries to ask for in the next read (at least 1). */
  count(): number;
  /** Records a read: how many entries it returned and how many events they held. */
  observe(entries: number, events: number): void;
}

/** Creates a {@link ReadSizer} for write batches of `batchSize` events. */
export function createReadSizer(batchSize: number): ReadSizer {
  let entries = 0;
  let events = 0;
  return {
    count() {
      const perEntry = entries > 0 ? Math.min(MAX_EVENTS_PER_ENTRY, Math.max(1, events / entries)) : 1;
      return Math.max(1, Math.floor(batchSize / perEntry));
    },
    observe(n, e) {
      if (n <= 0) return;
      entries = entries * DECAY + n;
      events = events * DECAY + Math.max(n, e);
    },
  };
}
