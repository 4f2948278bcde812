import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventStreamKey } from '../../../src/events/index.js';
import { publishEvents } from '../../helpers/pipeline-fixtures.js';
import { PipelineProcess } from '../../helpers/pipeline-process.js';
import { deliveryCounts } from '../../helpers/pipeline-test-sink.js';
import { cleanupPrefix, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';

let redis: Redis;
let prefix: string;
let countsKey: string;
const children: PipelineProcess[] = [];
const BATCH = 20;

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('proc');
  countsKey = `{${prefix}}:t:counts`;
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill('SIGKILL');
    await c.exited;
  }
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

function spawnPipeline(env: Record<string, string>, settings: { delayMs?: number; down?: boolean } = {}): PipelineProcess {
  const p = new PipelineProcess(
    { JOBSCOPE_PREFIX: prefix, PIPELINE_BATCH_SIZE: String(BATCH), PIPELINE_BLOCK_MS: '100', PIPELINE_RETRY_BASE_MS: '20', PIPELINE_RETRY_MAX_MS: '100', ...env },
    { countsKey, ...settings },
  );
  children.push(p);
  return p;
}

async function pendingCount(): Promise<number> {
  const exists = await redis.exists(eventStreamKey({ prefix }));
  const groups = exists ? ((await redis.xinfo('GROUPS', eventStreamKey({ prefix }))) as unknown[]) : [];
  if (groups.length === 0) return 0; // the child has not created its group yet
  const summary = (await redis.xpending(eventStreamKey({ prefix }), 'sink:recording')) as [number, ...unknown[]];
  return Number(summary[0]);
}

describe('pipeline processes', () => {
  it('SIGKILL mid-batch then restart: every event arrives, duplicates at most one batch', async () => {
    await publishEvents(redis, prefix, 200);
    const first = spawnPipeline({ PIPELINE_CONSUMER_NAME: 'stable-1' }, { delayMs: 150 });
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct >= 3 * BATCH, { what: 'some batches delivered' });
    first.kill('SIGKILL');
    await first.exited;
    expect(await pendingCount()).toBeGreaterThan(0); // the batch in flight was recorded but never acknowledged
    spawnPipeline({ PIPELINE_CONSUMER_NAME: 'stable-1' });
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct === 200, { what: 'all 200 delivered' });
    await waitFor(async () => (await pendingCount()) === 0, { what: 'all acknowledged' });
    const counts = await deliveryCounts(redis, countsKey);
    expect(counts.distinct).toBe(200);
    expect(counts.duplicates).toBeGreaterThan(0);
    expect(counts.duplicates).toBeLessThanOrEqual(BATCH);
  });

  it('a second consumer takes over a killed consumer\'s entries via XAUTOCLAIM', async () => {
    await publishEvents(redis, prefix, 200);
    const first = spawnPipeline({ PIPELINE_CONSUMER_NAME: 'dies' }, { delayMs: 150 });
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct >= 2 * BATCH, { what: 'some batches delivered' });
    first.kill('SIGKILL');
    await first.exited;
    spawnPipeline({ PIPELINE_CONSUMER_NAME: 'survivor', PIPELINE_CLAIM_IDLE_MS: '500' });
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct === 200, { what: 'all 200 delivered' });
    await waitFor(async () => (await pendingCount()) === 0, { what: 'all acknowledged' });
    const counts = await deliveryCounts(redis, countsKey);
    expect(counts.duplicates).toBeLessThanOrEqual(BATCH);
    const consumers = (await redis.xinfo('CONSUMERS', eventStreamKey({ prefix }), 'sink:recording')) as unknown[][];
    const dead = consumers.find((c) => c[1] === 'dies')!;
    expect(dead[3]).toBe(0); // the dead consumer holds nothing any more
  });

  it('SIGTERM finishes the in-flight write, acknowledges it and exits 0 within the deadline', async () => {
    await publishEvents(redis, prefix, 200);
    const p = spawnPipeline({ PIPELINE_SHUTDOWN_TIMEOUT_MS: '3000' }, { delayMs: 400 });
    await waitFor(async () => (await deliveryCounts(redis, countsKey)).distinct >= BATCH, { what: 'a batch in flight' });
    const sentAt = Date.now();
    p.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(3000 + 1000);
    // Everything the sink recorded was acknowledged; nothing else was taken.
    expect(await pendingCount()).toBe(0);
    const delivered = (await deliveryCounts(redis, countsKey)).distinct;
    const groups = (await redis.xinfo('GROUPS', eventStreamKey({ prefix }))) as unknown[][];
    const lag = Number(groups[0]![groups[0]!.indexOf('lag') + 1]);
    expect(delivered + lag).toBe(200);
  });

  it('SIGTERM while the sink is down exits within the deadline and leaves the unconfirmed entries pending', async () => {
    await publishEvents(redis, prefix, 50);
    const p = spawnPipeline({ PIPELINE_SHUTDOWN_TIMEOUT_MS: '2000' }, { down: true });
    await waitFor(async () => (await pendingCount()) > 0, { what: 'entries delivered to the consumer' });
    const sentAt = Date.now();
    p.kill('SIGTERM');
    const { code } = await p.exited;
    expect(code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(2000 + 1000);
    expect(await pendingCount()).toBe(BATCH);
    expect((await deliveryCounts(redis, countsKey)).distinct).toBe(0);
  });
});
