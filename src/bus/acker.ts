import type { Redis } from 'ioredis';
import type { StreamEntry } from './stream-entry.js';

/**
 * Acknowledges entries a sink confirmed: one XACK per shard with every id of the batch, sent
 * in one pipeline (one round trip). Only the pipeline calls it, and only after the sink's
 * backend confirmed.
 */

/** Options of {@link createAcker}. */
export interface AckerOptions {
  redis: Redis;
  group: string;
}

/** Batched XACK. */
export interface Acker {
  /** Acknowledges the entries; resolves with how many Redis acknowledged (0 for ids no longer pending). */
  ack(entries: readonly Pick<StreamEntry, 'stream' | 'id'>[]): Promise<number>;
}

/** Creates an {@link Acker}. */
export function createAcker(options: AckerOptions): Acker {
  const { redis, group } = options;

  async function ack(entries: readonly Pick<StreamEntry, 'stream' | 'id'>[]): Promise<number> {
    if (entries.length === 0) return 0;
    const byStream = new Map<string, string[]>();
    for (const e of entries) {
      const ids = byStream.get(e.stream);
      if (ids) ids.push(e.id);
      else byStream.set(e.stream, [e.id]);
    }
    const pipeline = redis.pipeline();
    for (const [stream, ids] of byStream) pipeline.xack(stream, group, ...ids);
    const results = (await pipeline.exec()) ?? [];
    let acked = 0;
    for (const [err, n] of results) {
      if (err) throw err;
      acked += Number(n);
    }
    return acked;
  }

  return { ack };
}
