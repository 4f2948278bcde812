import type { Redis } from 'ioredis';
import type { StatusReader } from '../../status/types.js';
import { ClosedError } from '../../errors.js';
import { FeedSubscription } from './feed-subscription.js';

/** Options of the shared live-feed reader. */
export interface FeedFanoutOptions {
  /** The connection used to find the feed's head (non-blocking). */
  redis: Redis;
  /** The feed stream key (`{<prefix>}:feed`). */
  feedKey: string;
  /** Opens a reader on a connection of its own: its reads block. */
  openBlockingReader: () => { reader: StatusReader; close: () => void };
  /** How long one blocking read waits, ms. Default 5000. */
  blockMs?: number;
  /** Most entries per read. Default 500. */
  batchSize?: number;
  /** Most entries queued per client before it is cut off. Default 1000. */
  maxQueuePerClient?: number;
  /** Called when a read fails; the loop retries after a pause. */
  onError?: (err: unknown) => void;
}

interface Run {
  pos: string;
  stopped: boolean;
  ready: Promise<void>;
  close: () => void;
}

/**
 * One blocking reader of the live feed shared by every SSE client, each with a bounded
 * queue. The reader runs while at least one client is connected and its connection is
 * released when the last one leaves.
 */
export function createFeedFanout(options: FeedFanoutOptions) {
  const blockMs = options.blockMs ?? 5000;
  const batchSize = options.batchSize ?? 500;
  const maxQueue = options.maxQueuePerClient ?? 1000;
  const subs = new Set<FeedSubscription>();
  let run: Run | undefined;
  let closed = false;

  async function loop(r: Run, reader: StatusReader): Promise<void> {
    let backoffMs = 100;
    while (!r.stopped) {
      try {
        const entries = await reader.readFeed({ afterId: r.pos, count: batchSize, blockMs });
        backoffMs = 100;
        if (r.stopped || entries.length === 0) continue;
        r.pos = entries[entries.length - 1]!.id;
        for (const sub of subs) sub.push(entries);
      } catch (err) {
        if (r.stopped) return;
        options.onError?.(err);
        await new Promise((resolve) => setTimeout(resolve, backoffMs).unref());
        backoffMs = Math.min(backoffMs * 2, 5000);
      }
    }
  }

  function startRun(): Run {
    const blocking = options.openBlockingReader();
    const r: Run = { pos: '0-0', stopped: false, ready: Promise.resolve(), close: blocking.close };
    r.ready = options.redis.xrevrange(options.feedKey, '+', '-', 'COUNT', 1).then((head) => {
      r.pos = head[0]?.[0] ?? '0-0';
      loop(r, blocking.reader).catch((err: unknown) => options.onError?.(err));
    });
    r.ready.catch(() => stopRun(r));
    return r;
  }

  function stopRun(r: Run): void {
    if (r.stopped) return;
    r.stopped = true;
    r.close();
    if (run === r) run = undefined;
  }

  function onSubClose(sub: FeedSubscription): void {
    subs.delete(sub);
    if (subs.size === 0 && run) stopRun(run);
  }

  return {
    /**
     * Joins the live feed. Every entry after the returned subscription's `startId` is pushed
     * to it (entries up to `startId` are the caller's to read from Redis).
     */
    async subscribe(): Promise<FeedSubscription> {
      for (;;) {
        if (closed) throw new ClosedError('the live feed');
        run ??= startRun();
        const r = run;
        await r.ready;
        // The last client may have left while this one waited, stopping the run: start anew.
        if (r.stopped) continue;
        const sub = new FeedSubscription(r.pos, maxQueue, onSubClose);
        subs.add(sub);
        return sub;
      }
    },
    /** Connected clients. */
    get size(): number {
      return subs.size;
    },
    /** Ends every subscription and the reader. Idempotent. */
    close(): void {
      closed = true;
      for (const sub of [...subs]) sub.close();
      if (run) stopRun(run);
    },
  };
}

/** The fan-out returned by {@link createFeedFanout}. */
export type FeedFanout = ReturnType<typeof createFeedFanout>;
