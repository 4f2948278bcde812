import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterStreamKey, eventStreamKey } from '../../../src/events/index.js';
import { createPipeline, type Pipeline, type PipelineOptions } from '../../../src/pipeline/index.js';
import { makeEvent } from '../../helpers/events.js';
import { metricValue, newRegistry, publishEvents, publishPacked, testPipelineOptions } from '../../helpers/pipeline-fixtures.js';
import { PipelineProcess } from '../../helpers/pipeline-process.js';
import { createTestSink, deliveryCounts } from '../../helpers/pipeline-test-sink.js';
import { cleanupPrefix, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';

/**
 * Packed entries (`v 1 b <event JSON lines>`) through the real pipeline and Redis: every event
 * reaches the sink on its own, and an entry is acknowledged only once all its events are
 * settled (confirmed or dead-lettered).
 */

let redis: Redis;
let prefix: string;
let countsKey: string;
const pipelines: Pipeline[] = [];
const children: PipelineProcess[] = [];

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('packed');
  countsKey = `{${prefix}}:t:counts`;
});
afterEach(async () => {
  for (const p of pipelines.splice(0)) await p.close();
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await c.exited;
  }
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

function start(o: Partial<PipelineOptions> & Pick<PipelineOptions, 'sinks'>): Pipeline {
  const p = createPipeline({ ...testPipelineOptions(redis, prefix), breaker: { failureThreshold: 1000, openMs: 50 }, ...o });
  pipelines.push(p);
  return p;
}

/** Entries delivered to the group and not acknowledged. */
async function pending(group: string): Promise<number> {
  const summary = (await redis.xpending(eventStreamKey({ prefix }), group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

async function deadLetters(): Promise<Map<string, Buffer>[]> {
  const rows = await redis.xrangeBuffer(deadLetterStreamKey({ prefix }), '-', '+');
  return rows.map(([, f]) => new Map(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i]!.toString(), f[2 * i + 1]!])));
}
const text = (r: Map<string, Buffer>, k: string) => r.get(k)?.toString();

describe('packed entries through the pipeline', () => {
  it('delivers every event exactly once in write batches no larger than the sink takes, and acknowledges every entry', async () => {
    const registry = newRegistry();
    const sizes: number[] = [];
    const sink = createTestSink({ name: 'rec', redis, countsKey, maxBatchSize: 5, delayMs: 5, onWrite: (n) => sizes.push(n) });
    const packed = await publishPacked(redis, prefix, [...Array.from({ length: 30 }, () => 16), 3, 1]);
    const single = await publishEvents(redis, prefix, 10);
    const total = packed.events.length + single.length;
    expect(total).toBe(30 * 16 + 4 + 10);
    const p = start({ sinks: [sink], metricsRegistry: registry });
    await p.start();
    // Past the first read (sized before any entry was seen), reads follow the 16 events per entry.
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct >= 120, { what: 'warm-up' });
    let maxHeld = 0;
    await waitFor(
      async () => {
        maxHeld = Math.max(maxHeld, p.status().sinks[0]!.inFlight);
        return (await deliveryCounts(redis, countsKey)).distinct === total;
      },
      { what: 'all delivered', intervalMs: 5 },
    );
    await waitFor(async () => (await pending('sink:rec')) === 0, { what: 'all acknowledged' });
    const counts = await deliveryCounts(redis, countsKey);
    expect(counts.duplicates).toBe(0);
    expect(Object.keys(counts.counts).sort()).toEqual([...packed.events, ...single].map((e) => e.id).sort());
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5);
    // A read of one 16-event entry, one read ahead, one ack: not 5 entries × 16 events per read.
    expect(maxHeld).toBeLessThanOrEqual(3 * 16);
    await waitFor(() => p.status().sinks[0]!.acked === total, { what: 'acks counted in events' });
    expect(await metricValue(registry, 'jobscope_sink_events_total', { sink: 'rec', outcome: 'acked' })).toBe(total);
    expect(await deadLetters()).toEqual([]);
  });

  it('a partial confirmation (retry with confirmedIds) keeps the entry pending until the rest is confirmed', async () => {
    const { events, ids } = await publishPacked(redis, prefix, [4]);
    let withheld = new Set([events[1]!.id, events[3]!.id]);
    const sink = createTestSink({ name: 'part', redis, countsKey, withholdIds: () => withheld });
    const p = start({ sinks: [sink] });
    await p.start();
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct === 2 && sink.writes >= 4, { what: 'half confirmed, retried' });
    expect(Object.keys((await deliveryCounts(redis, countsKey)).counts).sort()).toEqual([events[0]!.id, events[2]!.id].sort());
    // Two of its four events confirmed, several writes later: the entry is still pending, nothing counted as acknowledged.
    const pel = (await redis.xpending(eventStreamKey({ prefix }), 'sink:part', '-', '+', 10)) as [string, ...unknown[]][];
    expect(pel.map((row) => row[0])).toEqual(ids);
    expect(p.status().sinks[0]!.acked).toBe(0);
    expect(p.status().sinks[0]!.inFlight).toBe(2);
    withheld = new Set();
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct === 4, { what: 'the rest confirmed' });
    await waitFor(async () => (await pending('sink:part')) === 0, { what: 'entry acknowledged' });
    expect((await deliveryCounts(redis, countsKey)).duplicates).toBe(0);
    await waitFor(() => p.status().sinks[0]!.acked === 4, { what: 'acked counted' });
  });

  it('bisection confirms the other events of a packed entry but leaves it pending while its poison event is retried', async () => {
    const { events } = await publishPacked(redis, prefix, [6]);
    const poison = new Set([events[4]!.id]);
    const sink = createTestSink({ name: 'bis', redis, countsKey, poisonIds: poison });
    const p = start({ sinks: [sink], maxDeliveries: 1000 });
    await p.start();
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct === 5, { what: 'the healthy five confirmed' });
    for (let i = 0; i < 10; i++) {
      expect(await pending('sink:bis')).toBe(1);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(p.status().sinks[0]!.acked).toBe(0);
    poison.clear();
    await waitFor(async () => (await pending('sink:bis')) === 0, { what: 'entry acknowledged once the last event is confirmed' });
    const counts = await deliveryCounts(redis, countsKey);
    expect(counts.distinct).toBe(6);
    expect(counts.duplicates).toBe(0);
  });

  it('a poison event of a packed entry is dead-lettered alone after K deliveries, which settles and acknowledges the entry', async () => {
    const { events, lines } = await publishPacked(redis, prefix, [5]);
    const sink = createTestSink({ name: 'poison', redis, countsKey, poisonIds: new Set([events[2]!.id]) });
    const p = start({ sinks: [sink], maxDeliveries: 3 });
    await p.start();
    await waitFor(async () => (await deadLetters()).length === 1, { what: 'dead letter' });
    const [dl] = await deadLetters();
    expect([text(dl!, 'code'), text(dl!, 'part'), text(dl!, 'deliveries'), text(dl!, 'eventId')]).toEqual(['max_deliveries', '2', '3', events[2]!.id]);
    expect(text(dl!, 'orig.e')).toBe(lines[0]![2]);
    await waitFor(async () => (await pending('sink:poison')) === 0, { what: 'entry acknowledged' });
    expect((await deliveryCounts(redis, countsKey)).distinct).toBe(4);
    expect(p.status().sinks[0]).toMatchObject({ acked: 4, deadLettered: 1 });
  });

  it('a rejected event of a packed entry is dead-lettered alone; the others are delivered and the entry acknowledged', async () => {
    const registry = newRegistry();
    const { events, lines, ids } = await publishPacked(redis, prefix, [3, 2]);
    const sink = createTestSink({ name: 'strict', redis, countsKey, rejectIds: new Set([events[1]!.id]) });
    const p = start({ sinks: [sink], metricsRegistry: registry });
    await p.start();
    // The test sink records what reaches it, the refused event included.
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct === 5 && (await pending('sink:strict')) === 0, { what: 'delivered and acknowledged' });
    const dls = await deadLetters();
    expect(dls).toHaveLength(1);
    const dl = dls[0]!;
    expect([text(dl, 'code'), text(dl, 'reason'), text(dl, 'eventId'), text(dl, 'part'), text(dl, 'id'), text(dl, 'orig.v')]).toEqual([
      'rejected', 'backend refuses this one', events[1]!.id, '1', ids[0], '1',
    ]);
    expect(text(dl, 'orig.e')).toBe(lines[0]![1]); // that event alone
    expect(dl.has('orig.b')).toBe(false);
    expect((await deliveryCounts(redis, countsKey)).duplicates).toBe(0);
    await waitFor(() => p.status().sinks[0]!.acked === 4, { what: 'acked counted' });
    expect(await metricValue(registry, 'jobscope_sink_events_total', { sink: 'strict', outcome: 'dead_lettered' })).toBe(1);
    expect(await metricValue(registry, 'jobscope_sink_events_total', { sink: 'strict', outcome: 'acked' })).toBe(4);
  });

  it('a bad line inside a packed entry is dead-lettered alone and the rest delivered; a bad entry whole, byte for byte', async () => {
    const [a, b] = [makeEvent({ type: 'job.started' }), makeEvent({ type: 'job.completed' })];
    const { ids } = await publishPacked(redis, prefix, [[a, '{"broken":', b]]);
    const stream = eventStreamKey({ prefix });
    const future = ['{"x":1}', '{"x":2}'].join('\n');
    const futureId = await redis.xadd(stream, '*', 'v', '2', 'b', future);
    const sink = createTestSink({ name: 'any', redis, countsKey });
    const p = start({ sinks: [sink] });
    await p.start();
    await waitFor(async () => (await deadLetters()).length === 2 && (await pending('sink:any')) === 0, { what: 'dead letters, all acknowledged' });
    const dls = await deadLetters();
    const line = dls.find((d) => d.has('part'));
    const whole = dls.find((d) => !d.has('part'));
    expect([text(line!, 'code'), text(line!, 'part'), text(line!, 'id'), text(line!, 'orig.e')]).toEqual(['invalid', '1', ids[0], '{"broken":']);
    expect(text(line!, 'reason')).toMatch(/part 1 of field "b" is not valid JSON/);
    expect([text(whole!, 'code'), text(whole!, 'id'), text(whole!, 'orig.v'), text(whole!, 'orig.b'), whole!.has('part')]).toEqual(['invalid', futureId, '2', future, false]);
    expect(text(whole!, 'reason')).toMatch(/unsupported schema version "2"/);
    expect(Object.keys((await deliveryCounts(redis, countsKey)).counts).sort()).toEqual([a.id, b.id].sort());
    expect(p.status().sinks[0]).toMatchObject({ acked: 2, deadLettered: 3 }); // the bad line, and the two events of the bad entry
  });

  it('a consumer stopped mid-entry leaves the entry pending; on restart it is redelivered and nothing is lost', async () => {
    const { events, ids } = await publishPacked(redis, prefix, [5]);
    const withheld = new Set([events[3]!.id, events[4]!.id]);
    const first = start({ sinks: [createTestSink({ name: 'r', redis, countsKey, withholdIds: () => withheld })] });
    await first.start();
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct === 3, { what: 'three of five confirmed' });
    await first.close(); // stops without the rest confirmed: no ack
    const pel = (await redis.xpending(eventStreamKey({ prefix }), 'sink:r', '-', '+', 10)) as [string, ...unknown[]][];
    expect(pel.map((row) => row[0])).toEqual(ids);
    const second = start({ sinks: [createTestSink({ name: 'r', redis, countsKey })] });
    await second.start();
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct === 5 && (await pending('sink:r')) === 0, { what: 'redelivered and acknowledged' });
    const counts = await deliveryCounts(redis, countsKey);
    // At least once: the three confirmed before the stop come again with their entry.
    expect(events.map((e) => counts.counts[e.id])).toEqual(['2', '2', '2', '1', '1']);
    expect(await deadLetters()).toEqual([]);
  });

  it('SIGKILL of a pipeline process mid-entry, then restart: every event of every packed entry arrives', async () => {
    const { events } = await publishPacked(redis, prefix, Array.from({ length: 20 }, (_, i) => 1 + (i % 16)));
    const env = { JOBSCOPE_PREFIX: prefix, PIPELINE_BATCH_SIZE: '20', PIPELINE_BLOCK_MS: '100', PIPELINE_RETRY_BASE_MS: '20', PIPELINE_RETRY_MAX_MS: '100', PIPELINE_CONSUMER_NAME: 'stable-1' };
    const spawn = (delayMs?: number) => {
      const c = new PipelineProcess(env, delayMs === undefined ? { countsKey } : { countsKey, delayMs });
      children.push(c);
      return c;
    };
    const first = spawn(100);
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct >= 30, { what: 'some batches delivered' });
    first.kill('SIGKILL');
    await first.exited;
    expect(await pending('sink:recording')).toBeGreaterThan(0);
    spawn();
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct === events.length, { what: 'every event delivered', timeoutMs: 30_000 });
    await waitFor(async () => (await pending('sink:recording')) === 0, { what: 'all acknowledged' });
    expect(Object.keys((await deliveryCounts(redis, countsKey)).counts).sort()).toEqual(events.map((e) => e.id).sort());
    expect(await deadLetters()).toEqual([]);
  });
});
