import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../helpers/redis.js';
import { describeFailures, scenarioPasses } from './scenario-result.js';
import { runWorkerKill } from './scenarios/worker-kill.js';

let redis: Redis;
beforeAll(() => void (redis = testRedis()));
afterAll(() => redis.disconnect());

describe('reliability 2: SIGKILL a job worker while it publishes', () => {
  it('with Redis up: every confirmed event delivered', async () => {
    const result = await runWorkerKill({ redis, seed: 2, during: 'up', events: 400 });
    expect(result.verdicts[0]!.produced).toBeGreaterThan(100);
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });

  it('while Redis is unreachable: the spool is replayed on restart, every confirmed event delivered', async () => {
    const result = await runWorkerKill({ redis, seed: 2, during: 'outage', events: 400 });
    const replay = result.checks.find((c) => c.name === 'the spool was replayed on restart')!;
    expect(replay.detail).toMatch(/^[1-9]\d* events waiting in the spool/);
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });
});
