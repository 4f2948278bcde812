import type { Redis } from 'ioredis';
import { readFeedOnce } from './feed-read.js';
import { statusKeys } from './status-keys.js';
import type { FeedEntry } from './types.js';

/**
 * A live-feed subscription: yields batches of feed entries from an id on, over its own
 * connection (blocking XREAD would stall every other command on a shared one). Resuming is the
 * caller's job: keep the id of the last entry handled and pass it as `afterId` next time.
 */

/** Options of {@link createFeedSubscriber}. */
export interface FeedSubscriberOptions {
  /** A client to duplicate; the subscriber never uses it directly. */
  redis: Redis;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /** Start after this feed id; `$` (default) = only entries added from now on; `0` = all kept. */
  afterId?: string;
  /** Most entries per batch. Default 100. */
  count?: number;
  /** How long one XREAD blocks, ms; bounds how late close() is noticed. Default 5000. */
  blockMs?: number;
}

/** An async iterable of feed batches; `close()` ends it (idempotent). */
export interface FeedSubscriber extends AsyncIterable<FeedEntry[]> {
  /** The id of the last entry yielded (resume after it). */
  readonly lastId: string;
  close(): Promise<void>;
}

/** Creates a {@link FeedSubscriber}. Iterate it once. */
export function createFeedSubscriber(options: FeedSubscriberOptions): FeedSubscriber {
  const feedKey = statusKeys(options.prefix).feed;
  const conn = options.redis.duplicate({ lazyConnect: true });
  let lastId = options.afterId ?? '$';
  let closed = false;

  async function resolveStart(): Promise<void> {
    // `$` must be pinned to a real id once, or entries added between two reads would be missed.
    if (lastId !== '$') return;
    const last = await conn.xrevrange(feedKey, '+', '-', 'COUNT', 1);
    lastId = last[0]?.[0] ?? '0';
  }

  async function* iterate(): AsyncGenerator<FeedEntry[]> {
    try {
      await conn.connect();
      await resolveStart();
      while (!closed) {
        const batch = await readFeedOnce(conn, feedKey, {
          afterId: lastId,
          count: options.count,
          blockMs: options.blockMs ?? 5000,
        });
        if (batch.length === 0) continue;
        lastId = batch[batch.length - 1]!.id;
        yield batch;
      }
    } catch (err) {
      if (!closed) throw err;
    } finally {
      closed = true;
      conn.disconnect();
    }
  }

  return {
    get lastId() {
      return lastId;
    },
    [Symbol.asyncIterator]: () => iterate(),
    async close() {
      if (closed) return;
      closed = true;
      // Ends a blocked XREAD at once; the iterator sees the error and stops quietly.
      conn.disconnect();
    },
  };
}
