import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterStreamKey, eventStreamKey } from '../../../src/events/index.js';
import { createPipeline, type Pipeline, type PipelineOptions } from '../../../src/pipeline/index.js';
import { metricValue, newRegistry, publishEvents, testPipelineOptions } from '../../helpers/pipeline-fixtures.js';
import { createTestSink, deliveryCounts } from '../../helpers/pipeline-test-sink.js';
import { cleanupPrefix, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';

let redis: Redis;
let prefix: string;
let pipeline: Pipeline | undefined;

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('pipe');
});
afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

function start(o: Partial<PipelineOptions> & Pick<PipelineOptions, 'sinks'>): Pipeline {
  pipeline = createPipeline({ ...testPipelineOptions(redis, prefix), ...o });
  return pipeline;
}

async function deadLetters(): Promise<Record<string, string>[]> {
  const rows = await redis.xrange(deadLetterStreamKey({ prefix }), '-', '+');
  return rows.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i]!, f[2 * i + 1]!])));
}

describe('pipeline delivery', () => {
  it('a failing sink\'s events wait and all arrive on recovery, while another sink stays current', async () => {
    let down = true;
    const registry = newRegistry();
    const flaky = createTestSink({ name: 'flaky', redis, countsKey: `{${prefix}}:t:flaky`, down: () => down });
    const status = createTestSink({ name: 'status', redis, countsKey: `{${prefix}}:t:status` });
    const p = start({ sinks: [flaky, status], metricsRegistry: registry, breaker: { failureThreshold: 3, openMs: 100 } });
    await p.start();
    const events = await publishEvents(redis, prefix, 150);
    // During the outage the healthy sink gets everything, exactly once...
    await waitFor(async () => (await deliveryCounts(redis, `{${prefix}}:t:status`)).distinct === 150, { what: 'status sink current' });
    await waitFor(async () => (await p.refreshStats()).groups.find((g) => g.sink === 'status')?.pending === 0, { what: 'status acked' });
    // ...while the failing one has nothing, its breaker opened, and its events wait in the stream.
    expect((await deliveryCounts(redis, `{${prefix}}:t:flaky`)).distinct).toBe(0);
    await waitFor(() => p.status().sinks.find((s) => s.sink === 'flaky')!.breaker === 'open', { what: 'breaker open' });
    const stats = await p.refreshStats();
    const flakyGroup = stats.groups.find((g) => g.sink === 'flaky')!;
    expect(flakyGroup.pending + flakyGroup.lag).toBe(150);
    expect(await metricValue(registry, 'jobscope_sink_breaker_state', { sink: 'flaky' })).toBeGreaterThan(0);
    down = false;
    await waitFor(async () => (await deliveryCounts(redis, `{${prefix}}:t:flaky`)).distinct === 150, { what: 'flaky sink caught up' });
    const flakyCounts = await deliveryCounts(redis, `{${prefix}}:t:flaky`);
    expect(Object.keys(flakyCounts.counts).sort()).toEqual(events.map((e) => e.id).sort());
    expect(await deadLetters()).toEqual([]);
    await waitFor(() => p.status().sinks.find((s) => s.sink === 'flaky')!.breaker === 'closed', { what: 'breaker closed' });
    expect(await metricValue(registry, 'jobscope_sink_breaker_state', { sink: 'flaky' })).toBe(0);
  });

  it('a poison event is dead-lettered after K deliveries with its reason while the rest flow', async () => {
    const events = await publishEvents(redis, prefix, 40);
    const poison = events[7]!;
    const registry = newRegistry();
    const sink = createTestSink({ name: 'picky', redis, countsKey: `{${prefix}}:t:picky`, poisonIds: new Set([poison.id]) });
    const p = start({ sinks: [sink], metricsRegistry: registry, maxDeliveries: 3, breaker: { failureThreshold: 100, openMs: 50 } });
    await p.start();
    await waitFor(async () => (await deadLetters()).length === 1, { what: 'dead letter' });
    const [dl] = await deadLetters();
    expect(dl).toMatchObject({ code: 'max_deliveries', sink: 'picky', deliveries: '3', eventId: poison.id, stream: eventStreamKey({ prefix }) });
    expect(dl!.reason).toContain(`cannot handle ${poison.id}`);
    expect(JSON.parse(dl!['orig.e']!).id).toBe(poison.id);
    await waitFor(async () => (await deliveryCounts(redis, `{${prefix}}:t:picky`)).distinct === 39, { what: 'rest delivered' });
    await waitFor(async () => (await p.refreshStats()).groups[0]?.pending === 0, { what: 'all acked' });
    expect(await metricValue(registry, 'jobscope_dead_letters_total', { sink: 'picky', reason: 'max_deliveries' })).toBe(1);
  });

  it('rejected events are dead-lettered with the sink\'s reason, the others acknowledged', async () => {
    const events = await publishEvents(redis, prefix, 10);
    const sink = createTestSink({ name: 'strict', redis, countsKey: `{${prefix}}:t:strict`, rejectIds: new Set([events[2]!.id]) });
    await start({ sinks: [sink] }).start();
    await waitFor(async () => (await deadLetters()).length === 1, { what: 'dead letter' });
    expect((await deadLetters())[0]).toMatchObject({ code: 'rejected', reason: 'backend refuses this one', eventId: events[2]!.id, deliveries: '1' });
    await waitFor(async () => (await pipeline!.refreshStats()).groups[0]?.pending === 0, { what: 'all acked' });
  });

  it('invalid entries (bad JSON, unknown version, invalid UTF-8) are dead-lettered at once with the validation message', async () => {
    const stream = eventStreamKey({ prefix });
    const sink = createTestSink({ name: 'any', redis, countsKey: `{${prefix}}:t:any` });
    await start({ sinks: [sink] }).start();
    await redis.xadd(stream, '*', 'v', '1', 'e', '{not json');
    await redis.xadd(stream, '*', 'v', '9', 'e', '{}');
    await redis.xadd(stream, '*', 'v', '1', 'e', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    await publishEvents(redis, prefix, 3);
    await waitFor(async () => (await deadLetters()).length === 3, { what: 'three dead letters' });
    const dls = await deadLetters();
    expect(dls.map((d) => d.code)).toEqual(['invalid', 'invalid', 'invalid']);
    expect(dls[0]!.reason).toMatch(/not valid JSON/);
    expect(dls[1]!.reason).toMatch(/unsupported schema version "9"/);
    expect(dls[2]!.reason).toMatch(/not valid UTF-8/);
    expect(dls.every((d) => d.deliveries === '1' && d.sink === 'any')).toBe(true);
    // The original bytes are kept as they were.
    const raw = await redis.xrangeBuffer(deadLetterStreamKey({ prefix }), '-', '+');
    const f = raw[2]![1];
    const idx = f.findIndex((b) => b.toString() === 'orig.e');
    expect(f[idx + 1]).toEqual(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    await waitFor(async () => (await deliveryCounts(redis, `{${prefix}}:t:any`)).distinct === 3, { what: 'valid ones delivered' });
  });

  it('the breaker opens, half-opens with a one-event probe, and closes', async () => {
    let down = true;
    const sizes: number[] = [];
    const sink = createTestSink({ name: 'b', redis, countsKey: `{${prefix}}:t:b`, down: () => down, onWrite: (n) => sizes.push(n) });
    const p = start({ sinks: [sink], breaker: { failureThreshold: 2, openMs: 150 } });
    await p.start();
    await publishEvents(redis, prefix, 10);
    await waitFor(() => p.status().sinks[0]!.breaker === 'open', { what: 'open' });
    const writesWhenOpened = sink.writes;
    await waitFor(() => sink.writes > writesWhenOpened, { what: 'probe' });
    expect(sizes[writesWhenOpened]).toBe(1); // the probe is one event
    down = false;
    await waitFor(() => p.status().sinks[0]!.breaker === 'closed', { what: 'closed' });
    await waitFor(async () => (await deliveryCounts(redis, `{${prefix}}:t:b`)).distinct === 10, { what: 'delivered' });
  });
});
