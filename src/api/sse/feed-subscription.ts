import type { FeedEntry } from '../../status/types.js';

/** What a subscriber gets from {@link FeedSubscription.next}. */
export type FeedPull = { kind: 'entries'; entries: FeedEntry[] } | { kind: 'overflow' } | { kind: 'closed' };

/**
 * One SSE client's bounded queue of live feed entries. The fan-out pushes; the client's
 * handler pulls. Past `maxQueue` entries the queue is dropped and marked overflowed: the
 * client is told to resume by Last-Event-ID rather than holding memory for it.
 */
export class FeedSubscription {
  private queue: FeedEntry[] = [];
  private wake: (() => void) | undefined;
  /** True when entries were dropped because the client fell behind. */
  overflowed = false;
  closed = false;

  constructor(
    /** The feed id the live queue starts after. */
    readonly startId: string,
    private readonly maxQueue: number,
    private readonly onClose: (sub: FeedSubscription) => void,
  ) {}

  /** Called by the fan-out with entries newer than everything pushed before. */
  push(entries: readonly FeedEntry[]): void {
    if (this.closed || this.overflowed) return;
    if (this.queue.length + entries.length > this.maxQueue) {
      this.overflowed = true;
      this.queue = [];
    } else {
      this.queue.push(...entries);
    }
    this.signal();
  }

  /** Forgets queued entries and the overflow (used when catching up from Redis again). */
  reset(): void {
    this.queue = [];
    this.overflowed = false;
  }

  /** Waits for entries, an overflow or the end of the subscription. */
  async next(): Promise<FeedPull> {
    for (;;) {
      if (this.closed) return { kind: 'closed' };
      if (this.overflowed) return { kind: 'overflow' };
      if (this.queue.length > 0) {
        const entries = this.queue;
        this.queue = [];
        return { kind: 'entries', entries };
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Ends the subscription and releases its queue. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.signal();
    this.onClose(this);
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
