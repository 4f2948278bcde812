import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventStreamKey, type JobscopeEvent } from '../../src/events/index.js';
import { createPipeline, type Pipeline } from '../../src/pipeline/index.js';
import { newRegistry, quietLogger } from '../helpers/pipeline-fixtures.js';
import { createTestSink } from '../helpers/pipeline-test-sink.js';
import { cleanupPrefix, testPrefix, testRedis, waitFor } from '../helpers/redis.js';
import { pendingOf } from './drivers/bus-probe.js';
import { deadLetteredIds, readDeadLetters, recordedDeliveries } from './observers.js';
import { judgeSink, verdictPasses } from './oracle.js';
import { createWorkload, toProduced } from './workload.js';

let redis: Redis;
let prefix: string;
let pipeline: Pipeline | undefined;

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('relobs');
});
afterEach(async () => {
  await pipeline?.close();
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

describe('the oracle on packed entries', () => {
  it('counts per event: a part\'s dead letter is one event, a whole packed entry dead-lettered is all of its events', async () => {
    const workload = createWorkload({ seed: 5 });
    const events = workload.jobs(8); // 40 events
    const produced = events.map(toProduced);
    const stream = eventStreamKey({ prefix });
    const pack = (evs: JobscopeEvent[], version = '1') => redis.xadd(stream, '*', 'v', version, 'b', evs.map((e) => JSON.stringify(e)).join('\n'));
    await pack(events.slice(0, 16));
    await pack(events.slice(16, 30));
    await pack(events.slice(30, 37), '2'); // a whole entry this build cannot read: its 7 events are dead-lettered together
    await pack(events.slice(37));
    const poison = new Set([events[3]!.id, events[20]!.id]);
    const countsKey = `{${prefix}}:t:counts`;
    const sink = createTestSink({ name: 'recording', redis, countsKey, poisonIds: poison });
    pipeline = createPipeline({ redis, prefix, sinks: [sink], metricsRegistry: newRegistry(), logger: quietLogger, batchSize: 20, blockMs: 50, maxDeliveries: 2, retry: { baseMs: 5, maxMs: 20 }, breaker: { failureThreshold: 1000, openMs: 50 } });
    await pipeline.start();
    await waitFor(async () => (await readDeadLetters(redis, prefix)).length === 3 && (await pendingOf(redis, stream, 'sink:recording')).total === 0, { what: 'settled' });
    const records = await readDeadLetters(redis, prefix);
    expect(records.filter((r) => r.part !== undefined).map((r) => [r.part, r.eventIds])).toEqual([[3, [events[3]!.id]], [4, [events[20]!.id]]]);
    const whole = records.find((r) => r.part === undefined)!;
    expect(whole.eventIds).toEqual(events.slice(30, 37).map((e) => e.id));
    const verdict = judgeSink('recording', produced, await recordedDeliveries(redis, countsKey), deadLetteredIds(records, 'recording'));
    expect(verdict).toMatchObject({ produced: 40, delivered: 31, deadLettered: 9, missing: 0, unexpected: 0 });
    expect(verdictPasses(verdict)).toBe(true);
  });
});
