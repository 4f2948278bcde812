import type { Redis } from 'ioredis';
import type { GroupGuard } from './group-guard.js';
import { pendingCounts } from './pending-counts.js';
import { parseEntries, type StreamEntry } from './stream-entry.js';

/**
 * Batched XREADGROUP for one consumer of one group across the event stream shards. After a
 * start (or a NOGROUP recovery) it first walks the consumer's own pending entries (id `0`,
 * then from the last id seen), so a restarted consumer with a stable name finishes what it
 * had been given before it crashed; a shard whose pending list is exhausted switches to `>`
 * (new entries), which is the only mode that blocks.
 */

/** Options of {@link createGroupReader}. */
export interface GroupReaderOptions {
  /** A connection of its own: a blocking read holds the connection for up to `blockMs`. */
  redis: Redis;
  streams: readonly string[];
  group: string;
  consumer: string;
  /** How long a read of new entries waits for one to arrive, in ms. Default 1000. */
  blockMs?: number;
  guard: GroupGuard;
}

/** Reads batches for one consumer. */
export interface GroupReader {
  /** Reads up to `count` entries: own pending ones first, then new ones (blocking up to `blockMs`). */
  read(count: number): Promise<StreamEntry[]>;
  /** Starts again from the consumer's own pending entries (after a NOGROUP recovery). */
  rewind(): void;
  /**
   * True once every shard reads new entries (`>`) only. While it is false the next read walks
   * the consumer's own pending list, which also holds entries this consumer is still writing,
   * so a caller must not read ahead then (it would get them twice).
   */
  readsNewOnly(): boolean;
}

/** Creates a {@link GroupReader}. */
export function createGroupReader(options: GroupReaderOptions): GroupReader {
  const { redis, streams, group, consumer, guard } = options;
  const blockMs = options.blockMs ?? 1000;
  // Per shard: the id after which to read own pending entries, or '>' for new entries.
  const cursors = new Map<string, string>();
  const rewind = (): void => {
    for (const s of streams) cursors.set(s, '0');
  };
  rewind();

  async function readOnce(count: number): Promise<StreamEntry[]> {
    const ids = streams.map((s) => cursors.get(s) ?? '>');
    const history = ids.some((id) => id !== '>');
    const args: (string | number)[] = ['GROUP', group, consumer, 'COUNT', count];
    if (!history) args.push('BLOCK', blockMs);
    args.push('STREAMS', ...streams, ...ids);
    const raw = (await redis.callBuffer('XREADGROUP', ...args)) as unknown;
    const byStream = new Map<string, unknown>();
    if (Array.isArray(raw)) {
      for (const item of raw) if (Array.isArray(item)) byStream.set(String(item[0]), item[1]);
    }
    const out: StreamEntry[] = [];
    for (const stream of streams) {
      const entries = parseEntries(stream, byStream.get(stream));
      if (cursors.get(stream) !== '>') {
        if (entries.length === 0) cursors.set(stream, '>');
        else {
          cursors.set(stream, entries[entries.length - 1]!.id);
          await fillDeliveries(stream, entries);
        }
      }
      out.push(...entries);
    }
    return out;
  }

  async function fillDeliveries(stream: string, entries: StreamEntry[]): Promise<void> {
    const counts = await pendingCounts(redis, stream, group, consumer, entries[0]!.id, entries[entries.length - 1]!.id, entries.length);
    for (const e of entries) e.deliveries = counts.get(e.id) ?? e.deliveries;
  }

  async function read(count: number): Promise<StreamEntry[]> {
    try {
      const wasHistory = streams.some((s) => cursors.get(s) !== '>');
      const entries = await readOnce(count);
      // Own pending entries exhausted: go on to new ones in the same call.
      return entries.length === 0 && wasHistory ? await readOnce(count) : entries;
    } catch (err) {
      if (!(await guard.recover(err))) throw err;
      rewind();
      return [];
    }
  }

  return { read, rewind, readsNewOnly: () => streams.every((s) => cursors.get(s) === '>') };
}
