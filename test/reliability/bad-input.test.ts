import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../helpers/redis.js';
import { describeFailures, scenarioPasses } from './scenario-result.js';
import { runBadInput } from './scenarios/bad-input.js';

let redis: Redis;
beforeAll(() => void (redis = testRedis()));
afterAll(() => redis.disconnect());

describe('reliability 7: bad input', () => {
  it('10,000 malformed entries of every kind: all dead-lettered with a reason, 0 crashes, valid traffic delivered', async () => {
    const result = await runBadInput({ redis, seed: 3, malformed: 10_000 });
    expect(result.verdicts[1]!.produced).toBe(10_000);
    expect(result.verdicts[0]!.produced).toBeGreaterThan(1000);
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });
});
