import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../helpers/redis.js';
import { describeFailures, scenarioPasses } from './scenario-result.js';
import { runSigkillPipeline } from './scenarios/sigkill-pipeline.js';

let redis: Redis;
beforeAll(() => void (redis = testRedis()));
afterAll(() => redis.disconnect());

describe('reliability 1: SIGKILL a pipeline process at random points', () => {
  it.each([7])('seed %i: nothing missing, killed consumers reclaimed within 2x claim idle', async (seed) => {
    const result = await runSigkillPipeline({ redis, seed, jobsPerRound: 40, rounds: 3, claimIdleMs: 1000 });
    expect(result.verdicts[0]!.produced).toBe(3 * 40 * 5);
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });
});
