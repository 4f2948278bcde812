import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { identityPath, type JobscopeEvent } from '../../events/index.js';
import { ClosedError } from '../../errors.js';
import type { Sink, SinkHealth, SinkWriteResult } from '../sink.js';
import { createGapChecker, type GapCheckResult } from './gap-checker.js';
import { createGapReporter, type DetectedGap } from './gap-reporter.js';
import { sequenceKeys } from './sequence-keys.js';
import { createSequenceMetrics } from './sequence-metrics.js';
import { parseSeqReply, registerSequenceScripts } from './sequence-script.js';
import { redisHealth } from '../redis-health.js';

/**
 * The `sequence` sink: detects events lost before they reached the event stream. Every event
 * carries its producer (one per ConnectorLogger instance) and a sequence number 0, 1, 2, …;
 * per batch this sink sends one small Lua call per producer that counts the distinct seqs
 * (redeliveries are not counted twice) and notes holes. A periodic check declares a hole lost
 * once it has been open longer than the grace period (events of one producer may arrive out of
 * order) and reports it: an error line per gap and `jobscope_producer_seq_gaps_total`.
 * `listProducerGaps` reads what was found (the doctor shows it).
 *
 * What it cannot see: events lost after a producer's last seen seq (nothing later reveals
 * them), and, after its own state was lost (a Redis restart without persistence), which of the
 * earlier seqs it had already seen: every seq below the first one seen again is then reported.
 */

/** Options of {@link createSequenceSink}. */
export interface SequenceSinkOptions {
  /** Where the per-producer state lives (normally the bus Redis; not closed by the sink). */
  redis: Redis;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /** Registry of `jobscope_producer_seq_gaps_total` and `jobscope_producers_with_gaps`. */
  registry: Registry;
  /** Gets one error line per detected gap, and background-check failures. */
  logger: Logger;
  /** A hole still open after this long is declared lost, ms. Default 60000. */
  graceMs?: number;
  /** Period of the check, ms; 0 turns the timer off (call `checkGaps()`). Default 10000. */
  checkIntervalMs?: number;
  /** A producer's state is kept this long after its last event, ms. Default 7 days. */
  retentionMs?: number;
  /**
   * Most out-of-order seqs remembered per producer; past it the oldest holes are declared lost
   * at once (and reported). Default 50000 (a few MB of Redis at worst, per producer).
   */
  maxOutOfOrder?: number;
  /** Gap ranges kept per producer for `listProducerGaps`. Default 50. */
  gapListMax?: number;
  /** Producers settled per check run. Default 500. */
  producersPerCheck?: number;
  /** Largest batch the sink wants. Default 1000. */
  maxBatchSize?: number;
  /** Clock, Unix ms (tests). Default `Date.now`. */
  now?: () => number;
}

/** The sequence sink, with an on-demand check. */
export interface SequenceSink extends Sink {
  /** Runs one check now (`now` overrides the clock); resolves with the gaps it declared. */
  checkGaps(now?: number): Promise<GapCheckResult>;
  /** Counters since creation. */
  stats(): SequenceSinkStats;
}

/** Counters of a sequence sink. */
export interface SequenceSinkStats {
  /** Distinct seqs counted. */
  counted: number;
  /** Redeliveries seen. */
  duplicates: number;
  /** Events declared lost by this process. */
  lost: number;
  checks: number;
  checkErrors: number;
}

/** Default grace period before a hole counts as lost: 60 s. */
export const DEFAULT_SEQUENCE_GRACE_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;

interface ProducerBatch {
  path: string;
  serviceType: string;
  seqs: number[];
}

function groupByProducer(events: readonly JobscopeEvent[]): Map<string, ProducerBatch> {
  const out = new Map<string, ProducerBatch>();
  for (const e of events) {
    let b = out.get(e.producer);
    if (!b) out.set(e.producer, (b = { path: identityPath(e.source), serviceType: e.source.serviceType, seqs: [] }));
    b.seqs.push(e.seq);
  }
  return out;
}

/** Creates the `sequence` sink. */
export function createSequenceSink(options: SequenceSinkOptions): SequenceSink {
  const { redis, logger } = options;
  const keys = sequenceKeys(options.prefix);
  const scripts = registerSequenceScripts(redis, keys);
  const metrics = createSequenceMetrics(options.registry);
  const report = createGapReporter(logger, metrics);
  const now = options.now ?? Date.now;
  const ttlSeconds = Math.max(1, Math.ceil((options.retentionMs ?? 7 * DAY_MS) / 1000));
  const maxOutOfOrder = Math.max(1, options.maxOutOfOrder ?? 50_000);
  const gapListMax = Math.max(1, options.gapListMax ?? 50);
  const stats: SequenceSinkStats = { counted: 0, duplicates: 0, lost: 0, checks: 0, checkErrors: 0 };
  const checker = createGapChecker({
    redis, keys, scripts, metrics, graceMs: Math.max(0, options.graceMs ?? DEFAULT_SEQUENCE_GRACE_MS), ttlSeconds, gapListMax,
    producersPerRun: Math.max(1, options.producersPerCheck ?? 500), now,
    report: (producer, reply) => tally(report(producer, reply), reply.lost),
  });
  let closed = false;
  let checking: Promise<unknown> | undefined;

  function tally(gaps: DetectedGap[], lost: number): DetectedGap[] {
    stats.lost += lost;
    return gaps;
  }

  async function checkGaps(at?: number): Promise<GapCheckResult> {
    stats.checks += 1;
    return checker(at);
  }

  const intervalMs = options.checkIntervalMs ?? 10_000;
  const timer = intervalMs > 0
    ? setInterval(() => {
        if (checking || closed) return;
        checking = checkGaps()
          .catch((err: unknown) => {
            stats.checkErrors += 1;
            logger.warn({ err }, 'sequence gap check failed; it runs again next interval');
          })
          .finally(() => (checking = undefined));
      }, intervalMs)
    : undefined;
  timer?.unref();

  async function write(events: readonly JobscopeEvent[], signal: AbortSignal): Promise<SinkWriteResult> {
    if (closed) throw new ClosedError('sequence sink');
    if (signal.aborted) return { status: 'retry', reason: 'aborted before writing' };
    const batches = groupByProducer(events);
    const pipeline = redis.pipeline();
    const t = now();
    for (const [producer, b] of batches) {
      scripts.apply(pipeline, producer, [t, ttlSeconds, maxOutOfOrder, gapListMax, producer, b.path, b.serviceType, ...b.seqs]);
    }
    const replies = (await pipeline.exec()) ?? [];
    const producers = [...batches.keys()];
    for (let i = 0; i < producers.length; i++) {
      const [err, raw] = replies[i] ?? [new Error('no reply from Redis'), undefined];
      // Calls before this one are applied; applying them again counts nothing twice.
      if (err) return { status: 'retry', reason: `Redis refused the sequence update: ${err.message}` };
      const reply = parseSeqReply(raw);
      stats.counted += reply.added;
      stats.duplicates += reply.duplicates;
      tally(report(producers[i]!, reply), reply.lost);
    }
    return { status: 'ok' };
  }

  const health = (): Promise<SinkHealth> => redisHealth(redis, `producer sequence state under {${options.prefix ?? 'jobscope'}}:seq:*`);

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    if (timer) clearInterval(timer);
    await checking;
  }

  return {
    name: 'sequence', maxBatchSize: options.maxBatchSize ?? 1000, write, health, close, checkGaps, stats: () => ({ ...stats }),
  };
}
