import type { Redis } from 'ioredis';
import { createRandom } from '../../../connectors/seeded-random.js';
import { eventStreamKey } from '../../../src/events/index.js';
import { cleanupPrefix, testPrefix } from '../../helpers/redis.js';
import { pendingOf, pause, settle } from '../drivers/bus-probe.js';
import { ReliabilityPipeline } from '../drivers/pipeline-child-process.js';
import { recordedDeliveries, deadLetteredIds, readDeadLetters } from '../observers.js';
import { judgeSink } from '../oracle.js';
import { check, type ScenarioResult } from '../scenario-result.js';
import { createWorkload } from '../workload.js';

/** Options of {@link runSigkillPipeline}. */
export interface SigkillPipelineOptions {
  redis: Redis;
  seed: number;
  /** Job attempts per round (5 events each). */
  jobsPerRound: number;
  /** Kills. */
  rounds: number;
  /** `PIPELINE_CLAIM_IDLE_MS`. Default 1000. */
  claimIdleMs?: number;
}

const GROUP = 'sink:recording';

/**
 * Scenario 1: two pipeline processes share the recording group; at a seeded random point of
 * each round (after a read, during a sink write, before the ack: the sink records, then
 * takes 40 ms to confirm) one of them is SIGKILLed and replaced. Pass: 0 missing, and the
 * killed consumer's pending entries are claimed by the survivor within 2× the claim idle time.
 */
export async function runSigkillPipeline(o: SigkillPipelineOptions): Promise<ScenarioResult> {
  const prefix = testPrefix('rel1');
  const countsKey = `{${prefix}}:t:counts`;
  const claimIdleMs = o.claimIdleMs ?? 1000;
  const random = createRandom(o.seed);
  const workload = createWorkload({ seed: o.seed });
  const stream = eventStreamKey({ prefix });
  const env = (name: string) => ({
    JOBSCOPE_PREFIX: prefix, PIPELINE_CONSUMER_NAME: name, PIPELINE_BATCH_SIZE: '20', PIPELINE_BLOCK_MS: '100',
    PIPELINE_CLAIM_IDLE_MS: String(claimIdleMs), PIPELINE_RETRY_BASE_MS: '20', PIPELINE_RETRY_MAX_MS: '200', LOG_LEVEL: 'warn',
  });
  let n = 0;
  const names = new Map<ReliabilityPipeline, string>();
  const spawn = (): ReliabilityPipeline => {
    const name = `c${n++}`;
    const p = new ReliabilityPipeline(env(name), { countsKey, delayMs: 40 });
    names.set(p, name);
    return p;
  };
  const live = [spawn(), spawn()];
  const reclaimMs: number[] = [];
  let holdingKills = 0;
  try {
    for (let round = 0; round < o.rounds; round++) {
      await settle(() => live.every((p) => p.started), 20_000);
      await workload.publish(o.redis, prefix, workload.jobs(o.jobsPerRound));
      // Kill one that holds a batch: it has read (pending > 0), and a random 0-60 ms later it
      // is decoding, writing (the sink records, then confirms after 40 ms) or acknowledging.
      let holders: ReliabilityPipeline[] = [];
      const holding = await settle(async () => {
        const pending = (await pendingOf(o.redis, stream, GROUP)).byConsumer;
        holders = live.filter((p) => (pending.get(names.get(p)!) ?? 0) > 0);
        return holders.length > 0;
      }, 10_000, 5);
      if (holding) holdingKills++;
      const pick = holding ? holders : live;
      const victim = pick[Math.floor(random() * pick.length)]!;
      live.splice(live.indexOf(victim), 1);
      const consumer = names.get(victim)!;
      await pause(Math.floor(random() * 60));
      const killedAt = Date.now();
      await victim.destroy();
      live.push(spawn());
      await settle(async () => ((await pendingOf(o.redis, stream, GROUP)).byConsumer.get(consumer) ?? 0) === 0, 4 * claimIdleMs + 5000, 20);
      reclaimMs.push(Date.now() - killedAt);
    }
    const expected = workload.produced;
    await settle(async () => (await recordedDeliveries(o.redis, countsKey)).size >= expected.length && (await pendingOf(o.redis, stream, GROUP)).total === 0, 30_000);
    const dead = deadLetteredIds(await readDeadLetters(o.redis, prefix), 'recording');
    const worst = Math.max(0, ...reclaimMs);
    return {
      scenario: `1 SIGKILL pipeline (seed ${o.seed})`,
      verdicts: [judgeSink('recording', expected, await recordedDeliveries(o.redis, countsKey), dead)],
      checks: [
        check('killed consumers\' pending entries reclaimed within 2x claim idle', worst <= 2 * claimIdleMs, `worst ${worst} ms over ${reclaimMs.length} kills, limit ${2 * claimIdleMs} ms`),
        check('kills landed while the victim held entries', holdingKills > 0, `${holdingKills}/${o.rounds} kills with entries in flight`),
        check('survivors never crashed', live.every((p) => p.alive), `${live.filter((p) => p.alive).length}/${live.length} alive`),
      ],
    };
  } finally {
    for (const p of live) await p.destroy();
    await cleanupPrefix(o.redis, prefix);
  }
}
