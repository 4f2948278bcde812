import type { Redis } from 'ioredis';
import { createRandom } from '../../../connectors/seeded-random.js';
import { eventStreamKey } from '../../../src/events/index.js';
import { cleanupPrefix, testPrefix } from '../../helpers/redis.js';
import { pendingOf, pause, settle } from '../drivers/bus-probe.js';
import { ReliabilityPipeline } from '../drivers/pipeline-child-process.js';
import { deadLetteredIds, readDeadLetters, recordedDeliveries } from '../observers.js';
import { judgeSink } from '../oracle.js';
import { check, type ScenarioResult } from '../scenario-result.js';
import { createWorkload } from '../workload.js';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  redis: Redis;
  seed: number;
  durationMs: number;
  /** Job attempts per second (5 events each). */
  jobsPerSecond: number;
  /** One random fault this often. Default 60000. */
  faultEveryMs?: number;
  /** Progress lines go here (the script prints them). */
  onProgress?: (line: string) => void;
}

/**
 * Scenario 10: a pipeline process under a steady rate for `durationMs`, with a random fault
 * every `faultEveryMs` (the sink down for 3 s, a 10× burst, the pipeline's Redis connections
 * killed). Pass: 0 missing; live memory (JS heap in use + external, right after a full garbage
 * collection) at the end within 10% of that after warm-up (the first quarter); RSS under 256 MB.
 * Not RSS growth: in a 60 s run V8 is still growing its young generation (RSS +30 % with the
 * same 14 MB of live heap at both ends), and between collections RSS swings by a third.
 */
export async function runSoak(o: SoakOptions): Promise<ScenarioResult> {
  const prefix = testPrefix('rel10');
  const countsKey = `{${prefix}}:t:counts`;
  const downKey = `{${prefix}}:t:down`;
  const stream = eventStreamKey({ prefix });
  const random = createRandom(o.seed);
  const workload = createWorkload({ seed: o.seed });
  const faultEveryMs = o.faultEveryMs ?? 60_000;
  const p = new ReliabilityPipeline(
    { JOBSCOPE_PREFIX: prefix, PIPELINE_CONSUMER_NAME: 'soak', PIPELINE_BLOCK_MS: '200', PIPELINE_RETRY_BASE_MS: '50', PIPELINE_RETRY_MAX_MS: '1000', PIPELINE_BREAKER_OPEN_MS: '500', STREAM_MAX_LEN: '1000', LOG_LEVEL: 'warn' },
    { countsKey, downKey },
  );
  const faults: string[] = [];
  try {
    await settle(() => p.started, 30_000);
    const start = Date.now();
    // A child that died or went silent fails the checks below instead of throwing here.
    const memory = () => p.memoryAfterGc().catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
    let warm: { live: number; rss: number } | Error | undefined;
    let nextFault = start + faultEveryMs * (0.5 + random() * 0.5);
    while (Date.now() - start < o.durationMs) {
      const tickStart = Date.now();
      await workload.publish(o.redis, prefix, workload.jobs(Math.max(1, Math.round(o.jobsPerSecond / 5))));
      if (!warm && Date.now() - start >= o.durationMs / 4) warm = await memory();
      if (Date.now() >= nextFault) {
        faults.push(await injectFault(o.redis, random(), downKey, workload, prefix));
        o.onProgress?.(`${Math.round((Date.now() - start) / 1000)} s: ${faults[faults.length - 1]}; ${workload.produced.length} produced, RSS ${Math.round(p.rssBytes() / 1e6)} MB`);
        nextFault += faultEveryMs;
      }
      await pause(Math.max(0, 200 - (Date.now() - tickStart)));
    }
    await o.redis.del(downKey);
    await settle(async () => (await pendingOf(o.redis, stream, 'sink:recording')).total === 0 && (await recordedDeliveries(o.redis, countsKey)).size >= workload.produced.length, 60_000, 200);
    const end = await memory();
    const mb = (n: number) => Math.round(n / 1e6);
    const growthDetail = (): { ok: boolean; detail: string } => {
      if (!warm) return { ok: false, detail: 'the run ended before warm-up' };
      if (warm instanceof Error || end instanceof Error) return { ok: false, detail: (warm instanceof Error ? warm : (end as Error)).message };
      const growth = (end.live - warm.live) / warm.live;
      return {
        ok: growth < 0.1,
        detail: `heap used + external after a full GC: ${mb(warm.live)} MB after warm-up → ${mb(end.live)} MB at the end (${(growth * 100).toFixed(1)}%); RSS ${mb(warm.rss)} → ${mb(end.rss)} MB`,
      };
    };
    const growth = growthDetail();
    const dead = deadLetteredIds(await readDeadLetters(o.redis, prefix), 'recording');
    return {
      scenario: `10 soak ${Math.round(o.durationMs / 1000)} s (seed ${o.seed})`,
      verdicts: [judgeSink('recording', workload.produced, await recordedDeliveries(o.redis, countsKey), dead)],
      checks: [
        check('live memory growth < 10%', growth.ok, growth.detail),
        check('RSS < 256 MB', !(end instanceof Error) && end.rss < 256e6, end instanceof Error ? end.message : `${mb(end.rss)} MB at the end, after a full GC`),
        check('faults injected, process alive', faults.length > 0 && p.alive, `${faults.join('; ')}; process ${p.alive ? 'alive' : 'DEAD'}`),
      ],
    };
  } finally {
    await p.destroy();
    await cleanupPrefix(o.redis, prefix);
  }
}

async function injectFault(redis: Redis, r: number, downKey: string, workload: ReturnType<typeof createWorkload>, prefix: string): Promise<string> {
  if (r < 0.4) {
    await redis.set(downKey, '1', 'PX', 3000);
    return 'sink down 3 s';
  }
  if (r < 0.7) {
    await workload.publish(redis, prefix, workload.jobs(200));
    return 'burst of 1000 events';
  }
  // The pipeline's connections dropped, as by a network blip or a Redis failover.
  const list = String(await redis.client('LIST'));
  const ids = list.split('\n').filter((l) => /cmd=(xreadgroup|xautoclaim|xack|evalsha)/.test(l)).map((l) => /id=(\d+)/.exec(l)?.[1]).filter((x): x is string => !!x);
  for (const id of ids) await redis.client('KILL', 'ID', id).catch(() => undefined);
  return `${ids.length} pipeline connections killed`;
}
