import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { createPipeline } from '../../../src/pipeline/index.js';
import { metricValue } from '../../helpers/pipeline-fixtures.js';
import { createTestSink } from '../../helpers/pipeline-test-sink.js';
import { cleanupPrefix, testPrefix } from '../../helpers/redis.js';
import { RedisProcess } from '../../helpers/redis-process.js';
import { pause, settle } from '../drivers/bus-probe.js';
import { recordedDeliveries } from '../observers.js';
import { gapSize, judgeSink, sequenceGaps, type ProducedEvent } from '../oracle.js';
import { check, type ScenarioResult } from '../scenario-result.js';
import { createWorkload } from '../workload.js';

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
 * restart, and every lost event inside a gap found from the sequence numbers.
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
  const pipeline = createPipeline({
    redis: bus, prefix, sinks: [sink], metricsRegistry: registry, logger: pino({ level: 'silent' }), consumerName: 'c1',
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
    return {
      scenario: `3 Redis restarted, ${o.persistence === 'always' ? 'appendfsync always' : 'no persistence (post-restart events)'} (seed ${o.seed})`,
      verdicts: [judgeSink('recording', expected, seen, new Set())],
      checks,
    };
  } finally {
    await pipeline.close();
    bus.disconnect();
    await server.destroy();
    await cleanupPrefix(o.redis, prefix);
  }
}
