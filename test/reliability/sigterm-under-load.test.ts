import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../helpers/redis.js';
import { describeFailures, scenarioPasses } from './scenario-result.js';
import { runSigtermUnderLoad } from './scenarios/sigterm-under-load.js';

let redis: Redis;
beforeAll(() => void (redis = testRedis()));
afterAll(() => redis.disconnect());

describe('reliability 9: SIGTERM under load', () => {
  it('drains within the deadline; the next consumer delivers the rest; nothing missing', async () => {
    const result = await runSigtermUnderLoad({ redis, seed: 5, jobs: 100, shutdownTimeoutMs: 2000 });
    expect(result.verdicts[0]!.produced).toBe(500);
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });
});
