import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterStreamKey, eventStreamKey, type JobscopeEvent } from '../../../src/events/index.js';
import { createPipeline, type Pipeline } from '../../../src/pipeline/index.js';
import type { Sink, SinkWriteResult } from '../../../src/sinks/sink.js';
import { newRegistry, publishEvents, quietLogger } from '../../helpers/pipeline-fixtures.js';
import { createTestSink, deliveryCounts } from '../../helpers/pipeline-test-sink.js';
import { cleanupPrefix, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';
import { pendingOf } from '../../reliability/drivers/bus-probe.js';

/** The pipeline's drain on close: what it writes, what it leaves pending, what it never counts. */

let redis: Redis;
let prefix: string;
let pipeline: Pipeline | undefined;

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('drain');
});
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

const pendingOn = async (group: string): Promise<number> => (await pendingOf(redis, eventStreamKey({ prefix }), group)).total;

describe('pipeline drain on close', () => {
  it('writes and acknowledges what a read under way returns after the stop, leaving nothing pending on the stopped consumer', async () => {
    const countsKey = `{${prefix}}:counts`;
    const sink = createTestSink({ name: 'slow', redis, countsKey, delayMs: 20 });
    // A named client: the pipeline's reader (a duplicate of it) carries the name, so the test can see it block.
    const name = `drain-${prefix.replace(/[^\w-]/g, '')}`;
    const named = redis.duplicate({ connectionName: name });
    try {
      pipeline = createPipeline({ redis: named, prefix, sinks: [sink], metricsRegistry: newRegistry(), logger: quietLogger, consumerName: 'c1', batchSize: 20, blockMs: 5000, statsIntervalMs: 60_000 });
      await pipeline.start();
      // The stream is empty: wait until the loop is in its blocking read of new entries.
      const blocked = async () => ((await redis.client('LIST')) as string).split('\n').some((l) => l.includes(` name=${name} `) && l.includes(' cmd=xreadgroup') && /flags=\S*b/.test(l));
      await waitFor(blocked, { what: 'the blocking read' });
      const closing = pipeline.close();
      // Entries added now go to the read that is still blocked: Redis delivers the first of them
      // to c1 (the read returns at the first XADD); the others stay unread, for the next consumer.
      await publishEvents(redis, prefix, 40);
      await closing;
      expect(pipeline.status().drained).toBe(true);
      const counts = await deliveryCounts(redis, countsKey);
      expect(counts.distinct).toBeGreaterThanOrEqual(1);
      expect(counts.duplicates).toBe(0);
      // Before: the read's entries were dropped at the stop and stayed pending on c1.
      expect(await pendingOn('sink:slow')).toBe(0);
      expect(pipeline.status().sinks[0]!.acked).toBe(counts.distinct);
    } finally {
      await pipeline?.close();
      named.disconnect();
    }
  });

  it('does not write again, at the stop, batches a failing sink has just refused, nor what was read after them', async () => {
    await publishEvents(redis, prefix, 60);
    const sink = createTestSink({ name: 'down', redis, countsKey: `{${prefix}}:t:down`, down: () => true });
    pipeline = createPipeline({
      redis, prefix, sinks: [sink], metricsRegistry: newRegistry(), logger: quietLogger, consumerName: 'c1',
      batchSize: 20, blockMs: 50, statsIntervalMs: 60_000,
      // One failure, then a long backoff: the loop holds the refused batch (and the rest of its read) when it stops.
      retry: { baseMs: 60_000, maxMs: 60_000 }, breaker: { failureThreshold: 100 },
    });
    await pipeline.start();
    await waitFor(() => sink.writes >= 1, { what: 'the first refused write' });
    const before = sink.writes;
    await pipeline.close();
    expect(sink.writes).toBe(before);
    // What was read (one read of 20) stays pending for the next consumer, nothing dead-lettered.
    expect(await pendingOn('sink:down')).toBe(20);
    expect(await redis.xlen(deadLetterStreamKey({ prefix }))).toBe(0);
  });

  it('does not count a write cut off by the shutdown deadline as a delivery: with maxDeliveries 1 the event stays pending, not dead-lettered', async () => {
    await publishEvents(redis, prefix, 1);
    let writing = 0;
    // A healthy backend whose write only ends when the deadline aborts it.
    const hanging: Sink = {
      name: 'hang',
      write(_events: readonly JobscopeEvent[], signal: AbortSignal): Promise<SinkWriteResult> {
        writing++;
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('write aborted at the deadline')), { once: true }));
      },
      health: () => Promise.resolve({ ok: true }),
      close: () => Promise.resolve(),
    };
    pipeline = createPipeline({
      redis, prefix, sinks: [hanging], metricsRegistry: newRegistry(), logger: quietLogger, consumerName: 'c1',
      batchSize: 20, blockMs: 50, statsIntervalMs: 60_000, maxDeliveries: 1, shutdownTimeoutMs: 200,
    });
    await pipeline.start();
    await waitFor(() => writing === 1, { what: 'the write in flight' });
    // Writes are aborted at 80 % of the deadline; the loop then ends within it.
    await pipeline.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(writing).toBe(1);
    expect(await redis.xlen(deadLetterStreamKey({ prefix }))).toBe(0);
    expect(await pendingOn('sink:hang')).toBe(1);
    const rows = (await redis.xpending(eventStreamKey({ prefix }), 'sink:hang', '-', '+', 10)) as [string, string, number, number][];
    // Delivered once (the read), not raised by the cut-off write.
    expect(rows.map((r) => r[3])).toEqual([1]);
  });
});
