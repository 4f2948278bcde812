import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  createAcker,
  createClaimer,
  createDeadLetter,
  createGroupGuard,
  createGroupReader,
  createTrimmer,
  groupName,
  type GroupGuard,
  type StreamStats,
} from '../bus/index.js';
import { ClosedError, ConfigError } from '../errors.js';
import { deadLetterStreamKey, eventStreamKeys } from '../events/index.js';
import type { Sink } from '../sinks/sink.js';
import type { BackoffOptions } from './backoff.js';
import { BREAKER_GAUGE, createCircuitBreaker } from './circuit-breaker.js';
import { defaultConsumerName } from './consumer-name.js';
import { createDecodeCache, type DecodeCacheStats } from './decode-cache.js';
import { createPipelineMetrics, type PipelineMetrics } from './pipeline-metrics.js';
import { createSinkLoop, type SinkLoop, type SinkLoopStatus } from './sink-loop.js';
import { createStatsLoop, type StatsLoop } from './stats-loop.js';
import { drainWithin } from './drain.js';

/**
 * The pipeline: one independent loop per sink, each reading its own consumer group
 * (`sink:<name>`) over its own Redis connection, so a slow or dead sink only makes its own
 * group lag. Several pipeline processes share the groups (one consumer each) and scale out.
 */

/** Options of {@link createPipeline}. */
export interface PipelineOptions {
  /** The shared connection (acks, dead letters, stats). Each sink loop also opens a duplicate for its blocking reads. Not closed by the pipeline. */
  redis: Redis;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /** Event stream shards. Default 1. */
  shards?: number;
  sinks: Sink[];
  /** This process's consumer name; unique among live processes. Default `hostname-pid-random`. */
  consumerName?: string;
  /**
   * Events per write batch (a sink's `maxBatchSize` may lower it); each read asks for as many
   * entries as hold about this many events (a packed entry holds up to 64). Default 200.
   */
  batchSize?: number;
  /** How long a read of new entries blocks, in ms. Default 1000. */
  blockMs?: number;
  /** Deliveries before an entry is dead-lettered. Default 5. */
  maxDeliveries?: number;
  /** Entries idle longer than this are claimed from other consumers, in ms. Default 30000. */
  claimIdleMs?: number;
  /** Backoff of failed writes: `baseMs` default 200, `maxMs` default 30000. */
  retry?: BackoffOptions;
  /** Circuit breaker: `failureThreshold` default 5 consecutive failures, `openMs` default 10000. */
  breaker?: { failureThreshold?: number; openMs?: number };
  /** `close()` finishes in-flight writes and acknowledges within this, in ms. Default 10000. */
  shutdownTimeoutMs?: number;
  /** Where the pipeline self-metrics are registered. */
  metricsRegistry: Registry;
  logger: Logger;
  /** Trim budget: keep acknowledged entries up to this age (ms) / count; never trims unacknowledged ones. */
  trim?: { maxAgeMs?: number; maxLength?: number; trimAcknowledged?: boolean };
  /** How often lag/pending/length gauges refresh and the trimmer runs, in ms. Default 5000. */
  statsIntervalMs?: number;
  /** Approximate cap of the dead-letter stream. Default 100000. */
  deadLetterMaxLength?: number;
}

/** What `status()` reports. */
export interface PipelineStatus {
  consumer: string;
  state: 'idle' | 'running' | 'closing' | 'closed';
  sinks: (SinkLoopStatus & { lag?: number; pending?: number })[];
  streams?: StreamStats['streams'];
  deadLetterLength?: number;
  /** After `close()`: true when every sink loop finished within `shutdownTimeoutMs`. */
  drained?: boolean;
  /** The decoded-event cache shared by the sink loops (only with two sinks or more). */
  decodeCache?: DecodeCacheStats;
}

/** A pipeline. */
export interface Pipeline {
  /** Creates the groups and starts the sink loops and the stats loop. */
  start(): Promise<void>;
  /** Stops reading, finishes in-flight writes and acks within `shutdownTimeoutMs`, closes the sinks. Idempotent. */
  close(): Promise<void>;
  status(): PipelineStatus;
  /** Runs the trimmer and refreshes the gauges now. */
  refreshStats(): Promise<StreamStats>;
}

const SINK_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

function checkSinks(sinks: readonly Sink[]): void {
  const seen = new Set<string>();
  for (const s of sinks) {
    if (!SINK_NAME.test(s.name)) throw new ConfigError(`sink "${s.name}"`, 'a sink name must be 1-32 characters: a-z, 0-9, "_" or "-"');
    if (seen.has(s.name)) throw new ConfigError(`sink "${s.name}"`, 'is configured twice');
    seen.add(s.name);
  }
}

interface Running {
  sink: Sink;
  loop: SinkLoop;
  reader: Redis;
  done: Promise<void>;
}

/** Creates a {@link Pipeline}. */
export function createPipeline(options: PipelineOptions): Pipeline {
  checkSinks(options.sinks);
  const { redis, logger } = options;
  const keys = { prefix: options.prefix, shards: options.shards };
  const streams = eventStreamKeys(keys);
  const deadLetterStream = deadLetterStreamKey(keys);
  const consumer = options.consumerName ?? defaultConsumerName();
  const metrics = createPipelineMetrics(options.metricsRegistry);
  const stop = new AbortController();
  const abortWrites = new AbortController();
  const running: Running[] = [];
  // Sinks read the same entries: decode each once per process, not once per sink.
  const decodeCache = options.sinks.length > 1 ? createDecodeCache({ maxEvents: 5 * (options.batchSize ?? 200) }) : undefined;
  let state: PipelineStatus['state'] = 'idle';
  let closing: Promise<void> | undefined;
  let drained: boolean | undefined;
  const stats: StatsLoop = createStatsLoop({
    redis,
    streams,
    deadLetterStream,
    trimmer: createTrimmer({ redis, streams, ...options.trim }),
    metrics,
    logger,
    intervalMs: options.statsIntervalMs,
  });

  function guardFor(sink: Sink): GroupGuard {
    return createGroupGuard({
      redis,
      streams,
      group: groupName(sink.name),
      logger,
      onRecreated: () => metrics.groupsRecreated.inc({ sink: sink.name }),
    });
  }

  function startLoop(sink: Sink, guard: GroupGuard): Running {
    const group = groupName(sink.name);
    const reader = redis.duplicate();
    // Without a listener ioredis prints every reconnect error of this connection as "Unhandled error event".
    reader.on('error', (err: unknown) => logger.debug({ err, sink: sink.name }, 'reader connection error; reconnecting'));
    const claimIdleMs = options.claimIdleMs ?? 30_000;
    const breaker = createCircuitBreaker({
      ...options.breaker,
      onChange: (s) => {
        metrics.breakerState.set({ sink: sink.name }, BREAKER_GAUGE[s]);
        logger[s === 'open' ? 'warn' : 'info']({ sink: sink.name, breaker: s }, `circuit breaker ${s}`);
      },
    });
    metrics.breakerState.set({ sink: sink.name }, 0);
    const loop = createSinkLoop({
      sink,
      group,
      reader: createGroupReader({ redis: reader, streams, group, consumer, blockMs: options.blockMs, guard }),
      claimer: createClaimer({ redis, streams, group, consumer, claimIdleMs, guard }),
      acker: createAcker({ redis, group }),
      deadLetter: createDeadLetter({ redis, deadLetterStream, group, sink: sink.name, maxLength: options.deadLetterMaxLength }),
      breaker,
      metrics,
      logger,
      batchSize: options.batchSize ?? 200,
      maxDeliveries: options.maxDeliveries ?? 5,
      claimIdleMs,
      retry: options.retry ?? {},
      stopSignal: stop.signal,
      writeSignal: abortWrites.signal,
      ...(decodeCache ? { decodeCache } : {}),
    });
    return { sink, loop, reader, done: loop.run() };
  }

  async function start(): Promise<void> {
    if (state !== 'idle') throw new ClosedError('pipeline (start() was already called)');
    state = 'running';
    const guards = options.sinks.map((sink) => ({ sink, guard: guardFor(sink) }));
    for (const { guard } of guards) await guard.ensure();
    for (const { sink, guard } of guards) running.push(startLoop(sink, guard));
    stats.start();
    logger.info({ consumer, sinks: options.sinks.map((s) => s.name), streams }, 'pipeline started');
  }

  async function shutdown(): Promise<void> {
    state = 'closing';
    stop.abort();
    const timeoutMs = options.shutdownTimeoutMs ?? 10_000;
    const finished = await drainWithin(
      running.map((r) => r.done),
      timeoutMs,
      () => abortWrites.abort(),
    );
    drained = finished;
    if (!finished) logger.warn({ timeoutMs }, 'pipeline shutdown deadline passed; unconfirmed entries stay pending for the next consumer');
    await stats.close();
    for (const r of [...running].reverse()) {
      r.reader.disconnect();
      await r.sink.close().catch((err: unknown) => logger.error({ err, sink: r.sink.name }, 'sink close failed'));
    }
    state = 'closed';
    logger.info({ consumer, clean: finished }, 'pipeline closed');
  }

  function status(): PipelineStatus {
    const last = stats.last();
    const sinks = running.map((r) => {
      const g = last?.groups.find((x) => x.sink === r.sink.name);
      return g ? { ...r.loop.status(), lag: g.lag, pending: g.pending } : r.loop.status();
    });
    const out: PipelineStatus = { consumer, state, sinks };
    if (drained !== undefined) out.drained = drained;
    if (decodeCache) out.decodeCache = decodeCache.stats();
    if (last) {
      out.streams = last.streams;
      out.deadLetterLength = last.deadLetterLength;
    }
    return out;
  }

  return {
    start,
    close() {
      closing ??= state === 'idle' ? Promise.resolve().then(() => void (state = 'closed')) : shutdown();
      return closing;
    },
    status,
    refreshStats: () => stats.runOnce(),
  };
}

/** The pipeline metrics, for callers that want to read them (tests, status pages). */
export type { PipelineMetrics };
