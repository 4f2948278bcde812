import type { Redis } from 'ioredis';
import type { JobscopeEvent } from '../../src/events/index.js';
import type { Sink, SinkHealth, SinkWriteResult } from '../../src/sinks/sink.js';

/**
 * A controllable sink for pipeline tests: records every delivery per event id in a Redis hash
 * (HINCRBY, so the test sees duplicates, even across processes), and can be told to be down,
 * to throw for poison ids, to reject ids for good, to withhold some ids (a partial retry), or
 * to take its time.
 */
export interface TestSinkOptions {
  name: string;
  redis: Redis;
  /** Hash key: event id → deliveries that reached the sink. */
  countsKey: string;
  /** While true, writes fail (retry) and health says not ok: a backend outage. */
  down?: () => boolean;
  /** Throws for any batch containing one of these ids, with a healthy backend. */
  poisonIds?: ReadonlySet<string>;
  /** Rejects these ids for good (dead-lettered as `rejected`). */
  rejectIds?: ReadonlySet<string>;
  /**
   * While it returns ids, those are not taken: the write answers `retry` (with `retryAfterMs`)
   * and `confirmedIds` listing the others, which are recorded. A backend that took part of a batch.
   */
  withholdIds?: () => ReadonlySet<string>;
  /** The sink's `maxBatchSize`. */
  maxBatchSize?: number;
  /** Waits this long after recording a batch before confirming it, in ms. */
  delayMs?: number;
  /** Called with each write's size. */
  onWrite?: (size: number) => void;
}

export interface TestSink extends Sink {
  writes: number;
  closed: boolean;
}

export function createTestSink(o: TestSinkOptions): TestSink {
  const sink: TestSink = {
    name: o.name,
    ...(o.maxBatchSize === undefined ? {} : { maxBatchSize: o.maxBatchSize }),
    writes: 0,
    closed: false,
    async write(events: readonly JobscopeEvent[], signal: AbortSignal): Promise<SinkWriteResult> {
      sink.writes++;
      o.onWrite?.(events.length);
      if (o.down?.()) return { status: 'retry', reason: 'backend down' };
      const poison = events.find((e) => o.poisonIds?.has(e.id));
      if (poison) throw new Error(`cannot handle ${poison.id}`);
      const withheld = o.withholdIds?.() ?? new Set<string>();
      const taken = events.filter((e) => !withheld.has(e.id));
      const pipe = o.redis.pipeline();
      for (const e of taken) pipe.hincrby(o.countsKey, e.id, 1);
      await pipe.exec();
      if (o.delayMs) await delay(o.delayMs, signal);
      if (taken.length < events.length) return { status: 'retry', reason: 'withheld', retryAfterMs: 20, confirmedIds: taken.map((e) => e.id) };
      const rejected = events.filter((e) => o.rejectIds?.has(e.id)).map((e) => ({ eventId: e.id, reason: 'backend refuses this one' }));
      return rejected.length > 0 ? { status: 'ok', rejected } : { status: 'ok' };
    },
    async health(): Promise<SinkHealth> {
      return { ok: !o.down?.() };
    },
    async close(): Promise<void> {
      sink.closed = true;
    },
  };
  return sink;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

/** Reads the delivery counts: distinct ids, total deliveries, duplicates. */
export async function deliveryCounts(redis: Redis, countsKey: string): Promise<{ distinct: number; total: number; duplicates: number; counts: Record<string, string> }> {
  const counts = await redis.hgetall(countsKey);
  const values = Object.values(counts).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  return { distinct: values.length, total, duplicates: total - values.length, counts };
}
