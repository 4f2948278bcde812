import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { encodeEntry, eventStreamKey, type JobscopeEvent } from '../../src/events/index.js';
import type { PipelineOptions } from '../../src/pipeline/index.js';
import { makeEvent } from './events.js';

/** A silent logger (set TEST_LOG=1 to see the pipeline's logs). */
export const quietLogger = pino({ level: process.env.TEST_LOG ? 'debug' : 'silent' });

/** A fresh registry. */
export const newRegistry = (): Registry => new Registry();

/** Pipeline options for tests: one consumer, small batches, quick loops, quiet. */
export function testPipelineOptions(redis: Redis, prefix: string): Omit<PipelineOptions, 'sinks'> {
  return {
    redis,
    prefix,
    metricsRegistry: newRegistry(),
    logger: quietLogger,
    consumerName: 'c1',
    batchSize: 20,
    blockMs: 50,
    retry: { baseMs: 10, maxMs: 50 },
    statsIntervalMs: 100,
  };
}

/** Publishes `n` valid events (pipelined XADD) to the prefix's stream; returns them. */
export async function publishEvents(redis: Redis, prefix: string, n: number, jobPrefix = 'job'): Promise<JobscopeEvent[]> {
  const stream = eventStreamKey({ prefix });
  const events: JobscopeEvent[] = [];
  const pipe = redis.pipeline();
  for (let i = 0; i < n; i++) {
    const e = makeEvent({ type: 'job.progress', job: { id: `${jobPrefix}-${i}`, attempt: 1 } });
    events.push(e);
    pipe.xadd(stream, '*', ...encodeEntry(e));
  }
  await pipe.exec();
  return events;
}

/** Reads a metric's value with the given labels from a registry (0 when absent). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  const row = data.values.find((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val));
  return row ? row.value : 0;
}

/** Packed entries written by hand: their events, each entry's lines, and the entry ids. */
export interface PackedPublished {
  events: JobscopeEvent[];
  lines: string[][];
  ids: string[];
}

/**
 * Publishes packed entries (`v 1 b <lines>`, XADD by hand), one per element of `entries`: a
 * number is that many new valid events; a list gives the entry's events, a `string` in it
 * being written as a line as it is (a bad line).
 */
export async function publishPacked(redis: Redis, prefix: string, entries: readonly (number | readonly (string | JobscopeEvent)[])[]): Promise<PackedPublished> {
  const stream = eventStreamKey({ prefix });
  const out: PackedPublished = { events: [], lines: [], ids: [] };
  let n = 0;
  for (const spec of entries) {
    const items = typeof spec === 'number' ? Array.from({ length: spec }, () => makeEvent({ type: 'job.progress', job: { id: `packed-${n++}`, attempt: 1 } })) : spec;
    const lines = items.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
    for (const x of items) if (typeof x !== 'string') out.events.push(x);
    out.lines.push(lines);
    out.ids.push(String(await redis.xadd(stream, '*', 'v', '1', 'b', lines.join('\n'))));
  }
  return out;
}
