import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { createPipeline } from '../../../src/pipeline/index.js';
import { createSequenceSink, listProducerGaps, type ProducerGaps } from '../../../src/sinks/sequence/index.js';
import { metricValue } from '../../helpers/pipeline-fixtures.js';
import { createTestSink } from '../../helpers/pipeline-test-sink.js';
import { cleanupPrefix, testPrefix } from '../../helpers/redis.js';
import { RedisProcess } from '../../helpers/redis-process.js';
import { pause, settle } from '../drivers/bus-probe.js';
import { recordedDeliveries } from '../observers.js';
import { gapSize, judgeSink, sequenceGaps, type ProducedEvent } from '../oracle.js';
import { check, type ScenarioCheck, type ScenarioResult } from '../scenario-result.js';
import { createWorkload } from '../workload.js';

/** Grace period of the scenario's sequence sink, ms (production default: 60 s). */
const SEQUENCE_GRACE_MS = 500;

/** Options of {@link runRedisRestart}. */
export interface RedisRestartOptions {
  /** The shared Redis, where the recording sink keeps its counts (it must survive the restart). */
  redis: Redis;
  seed: number;
  /** `always`: AOF fsync on every write; `none`: no persistence. */
  persistence: 'always' | 'none';
  /** Job attempts before the crash, and again after. */
  jobsPerPhase: number;
}

/**
 * Scenario 3: the bus Redis (a redis-server the scenario owns) is SIGKILLed and restarted
 * while a producer publishes (it retries a batch until XADD confirms it) and a pipeline with
 * a slow recording sink consumes. With `appendfsync always` pass = 0 missing. Without
 * persistence the unconsumed backlog is gone with Redis: pass = no crash loop (the same
 * pipeline keeps running), the groups recreated, 0 missing among events published after the
 * restart, and every lost event inside a gap found from the sequence numbers — by the oracle
 * and by Jobscope itself: the built-in `sequence` sink runs beside the recording sink (its
 * state on the bus Redis, as in production) and must report exactly the range the restarted
 * Redis lost (log line, metric, listProducerGaps), and no gap at all with `appendfsync always`.
 */
export async function runRedisRestart(o: RedisRestartOptions): Promise<ScenarioResult> {
  const prefix = testPrefix('rel3');
  const countsKey = `{${prefix}}:t:counts`;
  const server = new RedisProcess(o.persistence === 'always' ? { appendfsync: 'always' } : {});
  await server.start();
  const bus = new Redis(server.url, { maxRetriesPerRequest: null });
  bus.on('error', () => undefined); // the outage is the point; reconnects are ioredis's job
  const registry = new Registry();
  const sink = createTestSink({ name: 'recording', redis: o.redis, countsKey, delayMs: 100 });
  const gapLines: string[] = [];
  const sequence = createSequenceSink({
    redis: bus, prefix, registry, graceMs: SEQUENCE_GRACE_MS, checkIntervalMs: 100,
    logger: pino({ level: 'error' }, new Writable({ write: (chunk: Buffer, _e, cb) => (gapLines.push(chunk.toString()), cb()) })),
  });
  const pipeline = createPipeline({
    redis: bus, prefix, sinks: [sink, sequence], metricsRegistry: registry, logger: pino({ level: 'silent' }), consumerName: 'c1',
    batchSize: 20, blockMs: 100, retry: { baseMs: 50, maxMs: 500 }, statsIntervalMs: 500,
  });
  const workload = createWorkload({ seed: o.seed });
  const publish = async (jobs: number): Promise<void> => {
    const events = workload.jobs(jobs);
    await settle(async () => (await workload.publish(bus, prefix, events), true), 30_000, 100);
  };
  try {
    await pipeline.start();
    await publish(o.jobsPerPhase);
    const before = workload.produced.length;
    // The sequence sink is fast: let it catch up (nothing of it in flight), while the slow
    // recording sink still has a backlog for Redis to lose. Jobscope's expected report is then
    // exact: every seq below the first one the restarted Redis holds.
    await settle(async () => {
      const g = (await pipeline.refreshStats()).groups.find((x) => x.sink === 'sequence');
      return g !== undefined && g.pending === 0 && g.lag === 0 && sequence.stats().counted >= before;
    }, 10_000, 20);
    await server.stop('SIGKILL');
    await pause(300);
    await server.start();
    await publish(o.jobsPerPhase);
    const after = workload.produced.slice(before);
    const expected: ProducedEvent[] = o.persistence === 'always' ? workload.produced : after;
    await settle(async () => {
      const seen = await recordedDeliveries(o.redis, countsKey);
      return expected.every((e) => seen.has(e.id));
    }, 30_000, 100);
    const seen = await recordedDeliveries(o.redis, countsKey);
    const seenSeqs = workload.produced.filter((e) => seen.has(e.id));
    const lost = workload.produced.filter((e) => !seen.has(e.id));
    const gaps = sequenceGaps(seenSeqs, new Map([[workload.producer, workload.produced.length - 1]]));
    const status = pipeline.status();
    const checks = [check('no crash loop: the pipeline kept running', status.state === 'running', `state ${status.state}`)];
    if (o.persistence === 'none') {
      const recreated = await metricValue(registry, 'jobscope_groups_recreated_total', { sink: 'recording' });
      checks.push(
        check('groups recreated', recreated >= 1, `${recreated} recreations`),
        check('the loss is detected from sequence numbers', gapSize(gaps) === lost.length, `${lost.length} lost upstream with Redis; gaps ${gaps.map((g) => `${g.from}-${g.to}`).join(', ') || 'none'}`),
      );
    }
    // What the restarted Redis still had: the post-restart events. Jobscope must report the rest.
    const streamGaps = o.persistence === 'always' ? [] : sequenceGaps(after, new Map([[workload.producer, workload.produced.length - 1]]));
    checks.push(...(await jobscopeReport(bus, prefix, registry, sequence.checkGaps, gapLines, streamGaps, lost)));
    return {
      scenario: `3 Redis restarted, ${o.persistence === 'always' ? 'appendfsync always' : 'no persistence (post-restart events)'} (seed ${o.seed})`,
      // Without persistence, pre-restart events the sink got before the crash are neither required nor unexpected.
      verdicts: [judgeSink('recording', expected, o.persistence === 'always' ? seen : onlyOf(seen, expected), new Set())],
      checks,
    };
  } finally {
    await pipeline.close();
    bus.disconnect();
    await server.destroy();
    await cleanupPrefix(o.redis, prefix);
  }
}

/** Jobscope's own report of the loss (sequence sink) against the oracle's gaps. */
async function jobscopeReport(
  bus: Redis, prefix: string, registry: Registry, checkGaps: (now?: number) => Promise<unknown>, gapLines: string[],
  expected: ReturnType<typeof sequenceGaps>, lost: readonly ProducedEvent[],
): Promise<ScenarioCheck[]> {
  const want = gapSize(expected);
  let reported: ProducerGaps[] = [];
  await settle(async () => {
    if (want === 0) await checkGaps(Date.now() + 10 * SEQUENCE_GRACE_MS); // settle any open hole now: there must be none
    reported = await listProducerGaps({ redis: bus, prefix });
    return want === 0 || reported.reduce((n, p) => n + p.lost, 0) >= want;
  }, 30_000, 100);
  const ranges = reported.flatMap((p) => p.gaps.map((g) => `${g.from}-${g.to}`)).sort();
  const wantRanges = expected.map((g) => `${g.from}-${g.to}`).sort();
  const metric = await metricValue(registry, 'jobscope_producer_seq_gaps_total');
  const lines = gapLines.filter((l) => l.includes('events lost: producer')).length;
  const covered = lost.every((e) => expected.some((g) => e.seq >= g.from && e.seq <= g.to));
  const detail = `reported ${ranges.join(', ') || 'none'} (oracle: ${wantRanges.join(', ') || 'none'}); metric ${metric}; ${lines} error line(s)`;
  return [
    check(
      want === 0 ? 'Jobscope reports no gap (no false alarm)' : 'Jobscope itself reports the gap (sequence sink: log, metric, listProducerGaps)',
      ranges.join() === wantRanges.join() && metric === want && lines === expected.length && (want === 0 || covered),
      want === 0 ? detail : `${detail}; the recording sink's ${lost.length} lost events ${covered ? 'all' : 'NOT all'} inside it`,
    ),
  ];
}

/** The deliveries of the `expected` events only. */
function onlyOf(seen: ReadonlyMap<string, number>, expected: readonly ProducedEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of expected) {
    const n = seen.get(e.id);
    if (n !== undefined) out.set(e.id, n);
  }
  return out;
}
