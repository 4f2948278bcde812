import type { Redis } from 'ioredis';
import type { GroupGuard } from './group-guard.js';
import { pendingCounts } from './pending-counts.js';
import { parseEntries, type StreamEntry } from './stream-entry.js';

/**
 * Takes over entries that another consumer of the group was given but left idle longer than
 * `claimIdleMs` (it crashed, hung or was killed): XAUTOCLAIM, one shard at a time, resuming
 * from the cursor Redis returns. XAUTOCLAIM bumps each entry's delivery count, which is what
 * eventually dead-letters an entry that kills every consumer that touches it.
 * Also keeps the consumer's own long-retried entries from being claimed by others (`touch`),
 * and records attributable failed deliveries in the PEL (`setDeliveries`).
 */

/** Options of {@link createClaimer}. */
export interface ClaimerOptions {
  redis: Redis;
  streams: readonly string[];
  group: string;
  consumer: string;
  /** Entries idle longer than this are taken over, in ms. Default 30000. */
  claimIdleMs?: number;
  guard: GroupGuard;
}

/** Claims idle entries for one consumer. */
export interface Claimer {
  /** Claims up to `count` entries idle past `claimIdleMs`, from the next shard in turn. */
  claim(count: number): Promise<StreamEntry[]>;
  /** Resets the idle time of own pending entries (XCLAIM JUSTID: the delivery count is kept). */
  touch(entries: readonly Pick<StreamEntry, 'stream' | 'id'>[]): Promise<void>;
  /** Sets the delivery count of an own pending entry (XCLAIM RETRYCOUNT JUSTID). */
  setDeliveries(entry: Pick<StreamEntry, 'stream' | 'id'>, deliveries: number): Promise<void>;
}

/** Creates a {@link Claimer}. */
export function createClaimer(options: ClaimerOptions): Claimer {
  const { redis, streams, group, consumer, guard } = options;
  const claimIdleMs = options.claimIdleMs ?? 30_000;
  const cursors = new Map<string, string>();
  let next = 0;

  async function claimFrom(stream: string, count: number): Promise<StreamEntry[]> {
    const start = cursors.get(stream) ?? '0-0';
    const raw = (await redis.callBuffer('XAUTOCLAIM', stream, group, consumer, claimIdleMs, start, 'COUNT', count)) as unknown[];
    cursors.set(stream, String(raw[0] ?? '0-0'));
    const entries = parseEntries(stream, raw[1]).filter((e) => e.fields !== null);
    if (entries.length === 0) return entries;
    const counts = await pendingCounts(redis, stream, group, consumer, entries[0]!.id, entries[entries.length - 1]!.id, entries.length * 2);
    for (const e of entries) e.deliveries = counts.get(e.id) ?? e.deliveries;
    return entries;
  }

  async function claim(count: number): Promise<StreamEntry[]> {
    for (let i = 0; i < streams.length; i++) {
      const stream = streams[next % streams.length]!;
      next++;
      try {
        const entries = await claimFrom(stream, count);
        if (entries.length > 0) return entries;
      } catch (err) {
        if (!(await guard.recover(err))) throw err;
        cursors.clear();
        return [];
      }
    }
    return [];
  }

  async function touch(entries: readonly Pick<StreamEntry, 'stream' | 'id'>[]): Promise<void> {
    const byStream = new Map<string, string[]>();
    for (const e of entries) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e.id]);
    for (const [stream, ids] of byStream) await redis.call('XCLAIM', stream, group, consumer, '0', ...ids, 'JUSTID');
  }

  async function setDeliveries(entry: Pick<StreamEntry, 'stream' | 'id'>, deliveries: number): Promise<void> {
    await redis.call('XCLAIM', entry.stream, group, consumer, '0', entry.id, 'RETRYCOUNT', String(deliveries), 'JUSTID');
  }

  return { claim, touch, setDeliveries };
}
