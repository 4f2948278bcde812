import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../helpers/redis.js';
import { describeFailures, scenarioPasses } from './scenario-result.js';
import { runSoak } from './scenarios/soak.js';

let redis: Redis;
beforeAll(() => void (redis = testRedis()));
afterAll(() => redis.disconnect());

describe('reliability 10: soak (60 s in CI)', () => {
  it('a steady rate with random faults: 0 missing, live memory growth < 10%', async () => {
    const result = await runSoak({ redis, seed: 10, durationMs: 60_000, jobsPerSecond: 20, faultEveryMs: 15_000 });
    expect(result.verdicts[0]!.produced).toBeGreaterThan(1000);
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  }, 180_000);
});
