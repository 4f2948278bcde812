import type { Redis } from 'ioredis';
import { eventStreamKey } from '../../../src/events/index.js';
import { cleanupPrefix, testPrefix } from '../../helpers/redis.js';
import { pendingOf, settle } from '../drivers/bus-probe.js';
import { ReliabilityPipeline } from '../drivers/pipeline-child-process.js';
import { deadLetteredIds, readDeadLetters, recordedDeliveries } from '../observers.js';
import { judgeSink } from '../oracle.js';
import { check, type ScenarioResult } from '../scenario-result.js';
import { createWorkload } from '../workload.js';

/** Options of {@link runSigtermUnderLoad}. */
export interface SigtermUnderLoadOptions {
  redis: Redis;
  seed: number;
  jobs: number;
  /** `PIPELINE_SHUTDOWN_TIMEOUT_MS`. Default 2000. */
  shutdownTimeoutMs?: number;
}

/**
 * Scenario 9: a pipeline process under load (a slow sink: 150 ms per batch, the backlog much
 * larger than one batch) gets SIGTERM. Pass: it exits 0 within the deadline (+1 s for process
 * exit); whatever it had not confirmed stays pending; the next consumer delivers it all.
 */
export async function runSigtermUnderLoad(o: SigtermUnderLoadOptions): Promise<ScenarioResult> {
  const prefix = testPrefix('rel9');
  const countsKey = `{${prefix}}:t:counts`;
  const stream = eventStreamKey({ prefix });
  const deadlineMs = o.shutdownTimeoutMs ?? 2000;
  const workload = createWorkload({ seed: o.seed });
  const env = (name: string) => ({
    JOBSCOPE_PREFIX: prefix, PIPELINE_CONSUMER_NAME: name, PIPELINE_BATCH_SIZE: '25', PIPELINE_BLOCK_MS: '100',
    PIPELINE_CLAIM_IDLE_MS: '500', PIPELINE_SHUTDOWN_TIMEOUT_MS: String(deadlineMs), PIPELINE_RETRY_BASE_MS: '20',
  });
  const first = new ReliabilityPipeline(env('draining'), { countsKey, delayMs: 150 });
  let next: ReliabilityPipeline | undefined;
  try {
    await settle(() => first.started, 20_000);
    await workload.publish(o.redis, prefix, workload.jobs(o.jobs));
    await settle(async () => (await recordedDeliveries(o.redis, countsKey)).size >= 50, 20_000, 10);
    const sentAt = Date.now();
    first.kill('SIGTERM');
    const { code } = await first.exited;
    const tookMs = Date.now() - sentAt;
    const recordedAtExit = (await recordedDeliveries(o.redis, countsKey)).size;
    const left = await pendingOf(o.redis, stream, 'sink:recording');
    next = new ReliabilityPipeline(env('next'), { countsKey });
    await settle(async () => (await recordedDeliveries(o.redis, countsKey)).size >= workload.produced.length && (await pendingOf(o.redis, stream, 'sink:recording')).total === 0, 30_000);
    const dead = deadLetteredIds(await readDeadLetters(o.redis, prefix), 'recording');
    return {
      scenario: `9 SIGTERM under load (seed ${o.seed})`,
      verdicts: [judgeSink('recording', workload.produced, await recordedDeliveries(o.redis, countsKey), dead)],
      checks: [
        check('drained and exited 0 within the deadline', code === 0 && tookMs <= deadlineMs + 1000, `exit ${code} after ${tookMs} ms, deadline ${deadlineMs} ms`),
        check('load was left when it stopped', recordedAtExit < workload.produced.length, `${recordedAtExit}/${workload.produced.length} delivered at exit`),
        check('the stopped consumer holds nothing unconfirmed', (left.byConsumer.get('draining') ?? 0) === 0, `${left.byConsumer.get('draining') ?? 0} pending on it after exit`),
      ],
    };
  } finally {
    await first.destroy();
    await next?.destroy();
    await cleanupPrefix(o.redis, prefix);
  }
}
