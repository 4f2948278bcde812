import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventStreamKey } from '../../../src/events/index.js';
import { createPipeline, type Pipeline } from '../../../src/pipeline/index.js';
import { newRegistry, publishEvents, quietLogger } from '../../helpers/pipeline-fixtures.js';
import { createTestSink, deliveryCounts } from '../../helpers/pipeline-test-sink.js';
import { cleanupPrefix, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';

const BATCH = 20;
let redis: Redis;
let prefix: string;
let pipeline: Pipeline | undefined;

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('ahead');
});
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

async function pending(): Promise<number> {
  const summary = (await redis.xpending(eventStreamKey({ prefix }), 'sink:slow')) as [number, ...unknown[]];
  return Number(summary[0]);
}

describe('sink loop read-ahead', () => {
  it('reads the next batch while a slow sink writes, holds at most one batch ahead, delivers each event once', async () => {
    const countsKey = `{${prefix}}:counts`;
    await publishEvents(redis, prefix, 10 * BATCH);
    const sink = createTestSink({ name: 'slow', redis, countsKey, delayMs: 60 });
    pipeline = createPipeline({ redis, prefix, sinks: [sink], metricsRegistry: newRegistry(), logger: quietLogger, consumerName: 'c1', batchSize: BATCH, blockMs: 50, statsIntervalMs: 60_000 });
    await pipeline.start();
    let maxPending = 0;
    let maxHeld = 0;
    // Mid-write of a later batch the next one is already delivered to this consumer: two batches pending.
    await waitFor(async () => {
      const p = await pending();
      maxPending = Math.max(maxPending, p);
      maxHeld = Math.max(maxHeld, pipeline!.status().sinks[0]!.inFlight);
      return p === 2 * BATCH;
    }, { what: 'a batch read ahead' });
    await waitFor(async () => {
      const p = await pending();
      maxPending = Math.max(maxPending, p);
      maxHeld = Math.max(maxHeld, pipeline!.status().sinks[0]!.inFlight);
      return (await deliveryCounts(redis, countsKey)).distinct === 10 * BATCH && p === 0;
    }, { what: 'all delivered and acknowledged' });
    // Held: the batch being written, one read ahead, and one batch's ack in flight at most.
    expect(maxPending).toBeLessThanOrEqual(3 * BATCH);
    expect(maxHeld).toBeLessThanOrEqual(3 * BATCH);
    const counts = await deliveryCounts(redis, countsKey);
    expect(counts.duplicates).toBe(0);
    await waitFor(() => pipeline!.status().sinks[0]!.acked === 10 * BATCH, { what: 'acks counted' });
  });
});

describe('sink loop stop', () => {
  it('writes and acknowledges what a read under way returns after the stop, leaving nothing pending on the stopped consumer', async () => {
    const countsKey = `{${prefix}}:counts`;
    const sink = createTestSink({ name: 'slow', redis, countsKey, delayMs: 20 });
    pipeline = createPipeline({ redis, prefix, sinks: [sink], metricsRegistry: newRegistry(), logger: quietLogger, consumerName: 'c1', batchSize: BATCH, blockMs: 5000, statsIntervalMs: 60_000 });
    await pipeline.start();
    // The stream is empty: the loop is soon in a blocking read of new entries.
    await new Promise((r) => setTimeout(r, 300));
    const closing = pipeline.close();
    // Entries added now go to the read that is still blocked: Redis delivers the first of them
    // to c1 (the read returns at the first XADD); the others stay unread, for the next consumer.
    await publishEvents(redis, prefix, 2 * BATCH);
    await closing;
    expect(pipeline.status().drained).toBe(true);
    const counts = await deliveryCounts(redis, countsKey);
    expect(counts.distinct).toBeGreaterThanOrEqual(1);
    expect(counts.duplicates).toBe(0);
    // Before: the read's entries were dropped at the stop and stayed pending on c1.
    expect(await pending()).toBe(0);
    expect(pipeline.status().sinks[0]!.acked).toBe(counts.distinct);
  });
});
