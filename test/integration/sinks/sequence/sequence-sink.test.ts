import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { checkProducerGaps } from '../../../../src/cli/doctor-checks.js';
import type { JobscopeEvent } from '../../../../src/events/index.js';
import { createSequenceSink, listProducerGaps, type SequenceSink } from '../../../../src/sinks/sequence/index.js';
import { makeEvent } from '../../../helpers/events.js';
import { metricValue } from '../../../helpers/pipeline-fixtures.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../../helpers/redis.js';

let redis: Redis;
let prefix: string;
const sinks: SequenceSink[] = [];
const GRACE_MS = 60_000;
const T0 = 1_800_000_000_000;

beforeAll(() => void (redis = testRedis()));
afterAll(() => redis.disconnect());
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await cleanupPrefix(redis, prefix);
});

function setup(options: { maxOutOfOrder?: number } = {}) {
  prefix = testPrefix('seq');
  const registry = new Registry();
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  let clock = T0;
  const sink = createSequenceSink({ redis, prefix, registry, logger: pino({ level: 'info' }, out), checkIntervalMs: 0, now: () => clock, ...options });
  sinks.push(sink);
  const write = (events: JobscopeEvent[]) => sink.write(events, new AbortController().signal);
  return { sink, registry, lines, write, advance: (ms: number) => (clock += ms), now: () => clock };
}

const source = { machineId: 'm-1', workerId: 'w-1', serviceType: 'comfyui', connectorId: 'c-1' };
const ev = (producer: string, seq: number) => makeEvent({ type: 'log', producer, seq, source, job: undefined });

describe('sequence sink', () => {
  it('finds no gap in a clean run with redeliveries and reordering', async () => {
    const { sink, registry, write, advance, lines } = setup();
    const all = [...Array.from({ length: 300 }, (_, i) => ev('p-a', i)), ...Array.from({ length: 300 }, (_, i) => ev('p-b', i))];
    // Reordered (two consumers, a claimed batch): reversed chunks, then redeliveries of a few.
    const chunks: JobscopeEvent[][] = [];
    for (let i = 0; i < all.length; i += 50) chunks.push(all.slice(i, i + 50));
    chunks.reverse();
    for (const c of chunks) expect(await write(c)).toEqual({ status: 'ok' });
    await write([all[0]!, all[299]!, all[450]!, all[17]!]);
    advance(GRACE_MS * 2);
    const r = await sink.checkGaps();
    expect(r.gaps).toEqual([]);
    expect(sink.stats()).toMatchObject({ counted: 600, duplicates: 4, lost: 0 });
    expect(await listProducerGaps({ redis, prefix })).toEqual([]);
    expect(await metricValue(registry, 'jobscope_producer_seq_gaps_total')).toBe(0);
    expect(await metricValue(registry, 'jobscope_producers_with_gaps')).toBe(0);
    expect(lines.filter((l) => l.level === 50)).toEqual([]);
    expect(await checkProducerGaps(redis, prefix)).toEqual([expect.objectContaining({ status: 'pass', name: 'event loss' })]);
  });

  it('reports a hole once it outlives the grace period, with the right range, once', async () => {
    const { sink, registry, write, advance, lines } = setup();
    await write(Array.from({ length: 50 }, (_, i) => ev('p-h', i)));
    await write(Array.from({ length: 40 }, (_, i) => ev('p-h', 60 + i)));
    advance(GRACE_MS - 1000);
    expect((await sink.checkGaps()).gaps).toEqual([]); // still within the grace: may be reordering
    advance(2000);
    const r = await sink.checkGaps();
    expect(r.gaps).toEqual([{ producer: 'p-h', path: 'm-1/w-1/comfyui/c-1', serviceType: 'comfyui', from: 50, to: 59, count: 10 }]);
    expect(r.producersWithGaps).toBe(1);
    const errors = lines.filter((l) => l.level === 50).map((l) => String(l.msg));
    expect(errors).toEqual([expect.stringContaining('events lost: producer p-h (m-1/w-1/comfyui/c-1) seq 50–59, 10 events')]);
    expect(await metricValue(registry, 'jobscope_producer_seq_gaps_total', { service_type: 'comfyui' })).toBe(10);
    expect(await metricValue(registry, 'jobscope_producers_with_gaps')).toBe(1);
    // More events, a later check: nothing new to say.
    await write(Array.from({ length: 10 }, (_, i) => ev('p-h', 100 + i)));
    advance(GRACE_MS * 2);
    expect((await sink.checkGaps()).gaps).toEqual([]);
    const listed = await listProducerGaps({ redis, prefix });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ producer: 'p-h', path: 'm-1/w-1/comfyui/c-1', lost: 10, seen: 100, highestSeq: 109, gaps: [{ from: 50, to: 59 }] });
    const doctor = await checkProducerGaps(redis, prefix);
    expect(doctor).toEqual([expect.objectContaining({ status: 'warn', name: 'event loss m-1/w-1/comfyui/c-1' })]);
    expect(doctor[0]!.detail).toMatch(/10 event\(s\) lost \(seq 50–59.*appendfsync everysec/);
  });

  it('reports a lost start of sequence (Redis came back empty) and each gap to one of two pipeline processes only', async () => {
    const { sink, write, advance, now } = setup();
    const other = createSequenceSink({ redis, prefix, registry: new Registry(), logger: pino({ level: 'silent' }), checkIntervalMs: 0, now });
    sinks.push(other);
    await write(Array.from({ length: 20 }, (_, i) => ev('p-r', 1000 + i)));
    await other.write(Array.from({ length: 20 }, (_, i) => ev('p-r', 1020 + i)), new AbortController().signal);
    advance(GRACE_MS + 1);
    const [a, b] = await Promise.all([sink.checkGaps(), other.checkGaps()]);
    expect([...a.gaps, ...b.gaps].map((g) => [g.from, g.to])).toEqual([[0, 999]]);
    expect(sink.stats().lost + other.stats().lost).toBe(1000);
  });

  it('keeps its memory bounded: past maxOutOfOrder the oldest hole is declared lost at once', async () => {
    const { sink, write, lines } = setup({ maxOutOfOrder: 100 });
    await write(Array.from({ length: 150 }, (_, i) => ev('p-o', 10 + i)));
    expect(sink.stats().lost).toBe(10);
    expect(lines.filter((l) => l.level === 50).map((l) => String(l.msg))).toEqual([expect.stringContaining('seq 0–9, 10 events')]);
    expect(await redis.zcard(`{${prefix}}:seq:z:p-o`)).toBe(0);
    expect(await redis.ttl(`{${prefix}}:seq:p:p-o`)).toBeGreaterThan(6 * 24 * 3600);
  });
});
