import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRandom, type Random } from '../../connectors/seeded-random.js';
import { encodeEntry, eventStreamKey, type JobscopeEvent } from '../../src/events/index.js';
import { makeEvent } from '../helpers/events.js';
import type { ProducedEvent } from './oracle.js';

/**
 * Valid traffic for the scenarios about the consumer side: whole job attempts (received,
 * started, progress…, then completed or failed, chosen by a seeded PRNG) numbered per
 * producer, published by direct XADD of encoded events. Every event is recorded for the
 * oracle as (producer, seq, id).
 */

/** Options of {@link createWorkload}. */
export interface WorkloadOptions {
  /** Producer name stamped on every event (with `seq`). Default random. */
  producer?: string;
  /** PRNG seed. Default 1. */
  seed?: number;
  /** Progress events per job. Default 2. */
  progressPerJob?: number;
  /** Share of jobs that fail, 0–1. Default 0.3. */
  failRatio?: number;
  /** Extra fields merged into every event (e.g. PII for scenario 8). */
  extra?: (event: JobscopeEvent) => JobscopeEvent;
}

/** A producer of numbered job events. */
export interface Workload {
  readonly producer: string;
  /** Everything produced so far, in order. */
  readonly produced: ProducedEvent[];
  /** The events of `jobs` new job attempts, numbered, not yet published. */
  jobs(count: number): JobscopeEvent[];
  /** Publishes events (pipelined XADD) to the stream of `prefix`; records them; returns the entry ids. */
  publish(redis: Redis, prefix: string, events: readonly JobscopeEvent[]): Promise<string[]>;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Creates a {@link Workload}. */
export function createWorkload(options: WorkloadOptions = {}): Workload {
  const producer = options.producer ?? `rel-${hex(4)}`;
  const random: Random = createRandom(options.seed ?? 1);
  const progressPerJob = options.progressPerJob ?? 2;
  const failRatio = options.failRatio ?? 0.3;
  const produced: ProducedEvent[] = [];
  let seq = 0;
  let jobNo = 0;

  function jobEvents(): JobscopeEvent[] {
    const job = { id: `${producer}-job-${jobNo++}`, attempt: 1, queue: 'rel' };
    const trace = { traceId: hex(16), spanId: hex(8) };
    const t0 = Date.now();
    const types: JobscopeEvent['type'][] = ['job.received', 'job.started'];
    for (let i = 0; i < progressPerJob; i++) types.push('job.progress');
    types.push(random() < failRatio ? 'job.failed' : 'job.completed');
    return types.map((type, i) => {
      const base = makeEvent({ type, job, trace, producer, seq: seq++, time: t0 + i });
      const withData = type === 'job.progress' ? ({ ...base, data: { progress: Math.round((100 * i) / types.length) } } as JobscopeEvent) : base;
      return options.extra ? options.extra(withData) : withData;
    });
  }

  return {
    producer,
    produced,
    jobs(count) {
      const out: JobscopeEvent[] = [];
      for (let i = 0; i < count; i++) out.push(...jobEvents());
      return out;
    },
    async publish(redis, prefix, events) {
      const stream = eventStreamKey({ prefix });
      const pipe = redis.pipeline();
      for (const e of events) pipe.xadd(stream, '*', ...encodeEntry(e));
      const results = (await pipe.exec()) ?? [];
      const ids: string[] = [];
      for (const [err, id] of results) {
        if (err) throw err;
        ids.push(String(id));
      }
      for (const e of events) produced.push(toProduced(e));
      return ids;
    },
  };
}

/** The oracle's record of an event. */
export function toProduced(e: JobscopeEvent): ProducedEvent {
  const p: ProducedEvent = { producer: e.producer, seq: e.seq, id: e.id, type: e.type };
  if (e.job) p.jobId = e.job.id;
  return p;
}

/** Which produced events a sink is meant to show: all of them, or only some types. */
export const SINK_SCOPE = {
  /** Fluentd, status store, recording sink: every event. */
  all: (_e: ProducedEvent) => true,
  /** OTel: an attempt's spans are exported when its terminal event arrives; the attempt span carries that event's id. */
  otel: (e: ProducedEvent) => e.type === 'job.completed' || e.type === 'job.failed' || e.type === 'job.cancelled',
  /** Sentry: failures. */
  sentry: (e: ProducedEvent) => e.type === 'job.failed',
} as const;
