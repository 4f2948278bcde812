import type { Acker, StreamEntry } from '../bus/index.js';

/**
 * Acknowledges confirmed entries without making the sink loop wait for the XACK round trip:
 * the ack of batch N travels while batch N+1 is written. At most one ack is in flight; the
 * next `push` first waits for it, so at most two batches' ids are held and an ack error
 * surfaces (thrown by the next `push` or by `flush`) instead of being lost. Entries are still
 * acknowledged only after the sink confirmed them: `push` is called with confirmed entries only.
 *
 * The XACK is sent before the next batch's writes are issued, so when a sink writes over the
 * same connection, Redis runs the ack first: a crash cannot duplicate more than one batch.
 *
 * Counts are in events: an entry may hold several (a packed entry is acknowledged once all of
 * its events are settled), so the caller says how many confirmed events each push covers.
 */

/** Options of {@link createAckPipeline}. */
export interface AckPipelineOptions {
  acker: Acker;
  /** Called with the number of confirmed events each completed ack covered (for counters). */
  onAcked: (events: number) => void;
}

/** One-deep asynchronous acknowledgement. */
export interface AckPipeline {
  /**
   * Waits for the ack in flight (rethrowing its error), then starts acknowledging `entries`,
   * which hold `events` confirmed events (default: one per entry).
   */
  push(entries: readonly Pick<StreamEntry, 'stream' | 'id'>[], events?: number): Promise<void>;
  /** Waits for the ack in flight; rethrows its error. */
  flush(): Promise<void>;
  /** Events whose entries' ack has been sent but not yet answered. */
  inFlight(): number;
}

/** Creates an {@link AckPipeline}. */
export function createAckPipeline(options: AckPipelineOptions): AckPipeline {
  let current: Promise<void> | undefined;
  let failure: { err: unknown } | undefined;
  let count = 0;

  async function flush(): Promise<void> {
    if (current) await current;
    if (failure) {
      const { err } = failure;
      failure = undefined;
      throw err;
    }
  }

  async function push(entries: readonly Pick<StreamEntry, 'stream' | 'id'>[], events = entries.length): Promise<void> {
    await flush();
    if (entries.length === 0) return;
    count = events;
    // Never rejects: the error is kept and rethrown by the next push/flush.
    current = options.acker.ack(entries).then(
      () => {
        options.onAcked(events);
      },
      (err: unknown) => {
        failure = { err };
      },
    ).finally(() => {
      current = undefined;
      count = 0;
    });
  }

  return { push, flush, inFlight: () => count };
}
