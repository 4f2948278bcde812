import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventStreamKey } from '../../../src/events/index.js';
import { createPipeline, type Pipeline } from '../../../src/pipeline/index.js';
import { metricValue, newRegistry, publishEvents, quietLogger } from '../../helpers/pipeline-fixtures.js';
import { createTestSink, deliveryCounts } from '../../helpers/pipeline-test-sink.js';
import { cleanupPrefix, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';

let redis: Redis;
let prefix: string;
let pipeline: Pipeline | undefined;

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('trim');
});
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

describe('trimming and recovery', () => {
  it('trimming under load never drops an entry a slow group has not acknowledged', async () => {
    let slowDown = true;
    const fast = createTestSink({ name: 'fast', redis, countsKey: `{${prefix}}:t:fast` });
    const slow = createTestSink({ name: 'slow', redis, countsKey: `{${prefix}}:t:slow`, down: () => slowDown });
    pipeline = createPipeline({
      redis, prefix, sinks: [fast, slow], metricsRegistry: newRegistry(), logger: quietLogger, consumerName: 'c1',
      batchSize: 50, blockMs: 50, retry: { baseMs: 10, maxMs: 40 }, breaker: { failureThreshold: 1000, openMs: 50 },
      statsIntervalMs: 20, trim: { maxLength: 10 },
    });
    await pipeline.start();
    // Load arrives in waves while the trimmer runs every 20 ms with a budget of 10 entries.
    for (let wave = 0; wave < 5; wave++) await publishEvents(redis, prefix, 100, `w${wave}`);
    await waitFor(async () => (await deliveryCounts(redis, `{${prefix}}:t:fast`)).distinct === 500, { what: 'fast sink done' });
    await pipeline.refreshStats();
    // Nothing trimmed: the slow group still needs all 500.
    expect(await redis.xlen(eventStreamKey({ prefix }))).toBe(500);
    slowDown = false;
    await waitFor(async () => (await deliveryCounts(redis, `{${prefix}}:t:slow`)).distinct === 500, { what: 'slow sink done' });
    // Once both groups acknowledged everything, the budget applies.
    await waitFor(async () => (await redis.xlen(eventStreamKey({ prefix }))) <= 10, { what: 'trimmed to budget' });
  });

  it('recreates the groups when Redis comes back empty (NOGROUP), says so, and keeps delivering', async () => {
    const registry = newRegistry();
    const sink = createTestSink({ name: 'n', redis, countsKey: `{${prefix}}:t:n` });
    pipeline = createPipeline({
      redis, prefix, sinks: [sink], metricsRegistry: registry, logger: quietLogger, consumerName: 'c1',
      batchSize: 20, blockMs: 50, retry: { baseMs: 10, maxMs: 40 }, statsIntervalMs: 1000,
    });
    await pipeline.start();
    await publishEvents(redis, prefix, 5);
    await waitFor(async () => (await deliveryCounts(redis, `{${prefix}}:t:n`)).distinct === 5, { what: 'first batch' });
    await redis.del(eventStreamKey({ prefix })); // the stream and its groups vanish
    await waitFor(async () => (await metricValue(registry, 'jobscope_groups_recreated_total', { sink: 'n' })) >= 1, { what: 'recreated' });
    const groups = (await redis.xinfo('GROUPS', eventStreamKey({ prefix }))) as unknown[][];
    expect(groups.map((g) => g[1])).toEqual(['sink:n']);
    await publishEvents(redis, prefix, 5, 'after');
    await waitFor(async () => (await deliveryCounts(redis, `{${prefix}}:t:n`)).distinct === 10, { what: 'delivery resumed' });
  });
});
