import type { Redis } from 'ioredis';
import type { Sink } from '../../../src/sinks/sink.js';

/**
 * A recording sink that counts deliveries per `<producer>#<seq>` in a Redis hash: scenario 2
 * knows what a child process produced by its sequence numbers, not by event ids (those are
 * made in the child).
 */
export function createSeqRecordingSink(redis: Redis, countsKey: string): Sink {
  return {
    name: 'recording',
    async write(events) {
      const pipe = redis.pipeline();
      for (const e of events) pipe.hincrby(countsKey, `${e.producer}#${e.seq}`, 1);
      const results = (await pipe.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed) return { status: 'retry', reason: String(failed[0]) };
      return { status: 'ok' };
    },
    health: async () => ({ ok: true }),
    close: async () => undefined,
  };
}
