import type { Redis } from 'ioredis';
import { parseFeedEntry } from './record-codec.js';
import type { FeedEntry, FeedReadOptions } from './types.js';

/** Most entries one feed read returns, whatever `count` asks. */
export const MAX_FEED_COUNT = 1000;

type XReadReply = [string, [string, string[]][]][] | null;

/**
 * One XREAD of the live feed after `afterId` (`$` = only new entries, `0` = from the start),
 * blocking up to `blockMs` when there is nothing yet. A blocking read holds its connection:
 * long-lived readers use a dedicated one (see feed-subscriber.ts).
 */
export async function readFeedOnce(redis: Redis, feedKey: string, options: FeedReadOptions = {}): Promise<FeedEntry[]> {
  const afterId = options.afterId ?? '$';
  const count = Math.min(Math.max(1, options.count ?? 100), MAX_FEED_COUNT);
  const blockMs = Math.max(0, options.blockMs ?? 0);
  const reply = (
    blockMs > 0
      ? await redis.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', feedKey, afterId)
      : await redis.xread('COUNT', count, 'STREAMS', feedKey, afterId)
  ) as XReadReply;
  const entries = reply?.[0]?.[1] ?? [];
  return entries.map(([id, fields]) => parseFeedEntry(id, fields));
}
