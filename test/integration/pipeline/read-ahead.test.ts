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
