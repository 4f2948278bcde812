import type { Redis } from 'ioredis';
import { eventStreamKey } from '../../../src/events/index.js';
import { cleanupPrefix, testPrefix } from '../../helpers/redis.js';
import { pause, settle } from '../drivers/bus-probe.js';
import { allGroupsDone, startSinkHarness } from '../drivers/sink-harness.js';
import { statusDeliveries } from '../observers.js';
import { check, type ScenarioResult } from '../scenario-result.js';
import { createWorkload } from '../workload.js';

/** Options of {@link runSinkOutages}. */
export interface SinkOutagesOptions {
  redis: Redis;
  seed: number;
  /** Job attempts per wave; one wave before the outage, one during. */
  jobsPerWave: number;
  /** How long the backends stay down, ms. Default 2000. */
  outageMs?: number;
  /** `STREAM_MAX_LEN` budget of acknowledged entries kept. Default 100. */
  streamBudget?: number;
}

/**
 * Scenario 4: Fluentd, the OTLP receiver and the Sentry endpoint stop listening,
 * all at once, for `outageMs`, while traffic keeps coming. Pass: 0 missing in every sink; the
 * status store shows the traffic sent during the outage before the outage ends (live); once
 * all groups caught up the stream is back within its trim budget.
 */
export async function runSinkOutages(o: SinkOutagesOptions): Promise<ScenarioResult> {
  const prefix = testPrefix('rel4');
  const budget = o.streamBudget ?? 100;
  const outageMs = o.outageMs ?? 2000;
  const h = await startSinkHarness({ redis: o.redis, prefix, pipeline: { trim: { maxLength: budget } } });
  const workload = createWorkload({ seed: o.seed });
  try {
    await workload.publish(o.redis, prefix, workload.jobs(o.jobsPerWave));
    await settle(() => allGroupsDone(h), 30_000, 100);
    await h.fluent.stop();
    await h.otlpGate.down();
    await h.sentryGate.down();
    const outageStart = Date.now();
    const wave = workload.jobs(o.jobsPerWave);
    await workload.publish(o.redis, prefix, wave);
    const waveIds = new Set(wave.map((e) => e.id));
    const statusLive = await settle(async () => {
      const seen = await statusDeliveries(o.redis, prefix, wave.map((e) => e.job!.id));
      return [...waveIds].every((id) => seen.has(id));
    }, outageMs, 50);
    const statusMs = Date.now() - outageStart;
    const lengthDuring = await o.redis.xlen(eventStreamKey({ prefix }));
    await pause(Math.max(0, outageMs - (Date.now() - outageStart)));
    await Promise.all([h.fluent.start(), h.otlpGate.up(), h.sentryGate.up()]);
    await settle(() => allGroupsDone(h), 60_000, 200);
    await h.pipeline.refreshStats();
    const lengthAfter = await o.redis.xlen(eventStreamKey({ prefix }));
    return {
      scenario: `4 sinks down (seed ${o.seed})`,
      verdicts: await h.verdicts(workload.produced),
      checks: [
        check('status store live during the outage', statusLive, `the outage wave was in the status store ${statusMs} ms into a ${outageMs} ms outage`),
        check('backlog held while down', lengthDuring >= wave.length, `stream length ${lengthDuring} during the outage (wave ${wave.length})`),
        check('stream back within its budget', lengthAfter <= budget, `stream length ${lengthAfter} after catch-up, budget ${budget}`),
      ],
    };
  } finally {
    await h.close();
    await cleanupPrefix(o.redis, prefix);
  }
}

