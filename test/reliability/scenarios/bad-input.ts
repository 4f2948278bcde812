import type { Redis } from 'ioredis';
import { createRandom } from '../../../connectors/seeded-random.js';
import { eventStreamKey } from '../../../src/events/index.js';
import { cleanupPrefix, testPrefix } from '../../helpers/redis.js';
import { pendingOf, settle } from '../drivers/bus-probe.js';
import { ReliabilityPipeline } from '../drivers/pipeline-child-process.js';
import { malformedEntries, type MalformedKind } from '../malformed.js';
import { deadLetteredIds, readDeadLetters, recordedDeliveries } from '../observers.js';
import { judgeSink } from '../oracle.js';
import { check, type ScenarioResult } from '../scenario-result.js';
import { createWorkload } from '../workload.js';

/** Options of {@link runBadInput}. */
export interface BadInputOptions {
  redis: Redis;
  seed: number;
  /** Malformed entries (at least 10,000 for the issue's criterion). */
  malformed: number;
  /** Malformed entries between two valid job attempts. Default 40. */
  malformedPerJob?: number;
}

/**
 * Scenario 7: malformed entries of every kind, interleaved with valid job attempts, XADDed
 * straight into the stream a pipeline process reads. Pass: the process never crashes (alive,
 * no sink-loop error), 100% of the malformed entries are in the dead-letter stream with code
 * `invalid` and a reason, and the valid traffic is delivered in full (nothing of it dead-lettered).
 */
export async function runBadInput(o: BadInputOptions): Promise<ScenarioResult> {
  const prefix = testPrefix('rel7');
  const countsKey = `{${prefix}}:t:counts`;
  const stream = eventStreamKey({ prefix });
  const random = createRandom(o.seed);
  const workload = createWorkload({ seed: o.seed });
  const bad = malformedEntries(o.malformed, random);
  const kindOf = new Map<string, MalformedKind>();
  const pipeline = new ReliabilityPipeline({ JOBSCOPE_PREFIX: prefix, PIPELINE_BLOCK_MS: '100' }, { countsKey });
  try {
    const per = o.malformedPerJob ?? 40;
    for (let i = 0; i < bad.length; i += per) {
      const pipe = o.redis.pipeline();
      const chunk = bad.slice(i, i + per);
      for (const b of chunk) pipe.xadd(stream, '*', ...b.fields);
      const ids = ((await pipe.exec()) ?? []).map(([, id]) => String(id));
      chunk.forEach((b, j) => kindOf.set(ids[j]!, b.kind));
      await workload.publish(o.redis, prefix, workload.jobs(1));
    }
    const total = bad.length + workload.produced.length;
    await settle(async () => {
      const p = await pendingOf(o.redis, stream, 'sink:recording');
      const groups = (await o.redis.xinfo('GROUPS', stream)) as unknown[][];
      const read = Number(groups[0]?.[groups[0].indexOf('entries-read') + 1] ?? 0);
      return p.total === 0 && read >= total;
    }, 120_000, 200);
    const records = await readDeadLetters(o.redis, prefix);
    const byEntry = new Map(records.filter((r) => r.sink === 'recording').map((r) => [r.id, r]));
    const missedKinds = new Map<string, number>();
    let withReason = 0;
    for (const [id, kind] of kindOf) {
      const r = byEntry.get(id);
      if (r && r.code === 'invalid' && r.reason.length > 0) withReason++;
      else missedKinds.set(kind, (missedKinds.get(kind) ?? 0) + 1);
    }
    const loopErrors = pipeline.count(/sink loop error/);
    const verdict = judgeSink('recording', workload.produced, await recordedDeliveries(o.redis, countsKey), deadLetteredIds(records, 'recording'));
    return {
      scenario: `7 bad input (seed ${o.seed})`,
      verdicts: [verdict, { sink: 'dead-letter (malformed)', produced: bad.length, delivered: 0, duplicates: 0, deadLettered: withReason, missing: bad.length - withReason, missingSample: [...missedKinds].map(([k, n]) => `${k} x${n}`), unexpected: 0 }],
      checks: [
        check('every malformed entry dead-lettered with a reason', withReason === bad.length, `${withReason}/${bad.length}${missedKinds.size ? `; missed ${[...missedKinds].map(([k, n]) => `${k} x${n}`).join(', ')}` : ''}`),
        check('0 crashes', pipeline.alive && loopErrors === 0, `process ${pipeline.alive ? 'alive' : 'DEAD'}, ${loopErrors} sink loop errors`),
        check('valid traffic unaffected', verdict.deadLettered === 0 && verdict.delivered === verdict.produced, `${verdict.delivered}/${verdict.produced} valid delivered, ${verdict.deadLettered} dead-lettered`),
      ],
    };
  } finally {
    await pipeline.destroy();
    await cleanupPrefix(o.redis, prefix);
  }
}
