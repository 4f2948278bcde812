import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../helpers/redis.js';
import { describeFailures, scenarioPasses } from './scenario-result.js';
import { runRedisRestart } from './scenarios/redis-restart.js';

let redis: Redis;
beforeAll(() => void (redis = testRedis()));
afterAll(() => redis.disconnect());

describe('reliability 3: Redis restarted', () => {
  it('with appendfsync always: 0 missing', async () => {
    const result = await runRedisRestart({ redis, seed: 3, persistence: 'always', jobsPerPhase: 40 });
    expect(result.verdicts[0]!.produced).toBe(400);
    expect(result.checks.map((c) => c.name)).toContain('Jobscope reports no gap (no false alarm)');
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });

  it('without persistence: no crash loop, groups recreated, the gap detected from sequence numbers', async () => {
    const result = await runRedisRestart({ redis, seed: 3, persistence: 'none', jobsPerPhase: 40 });
    expect(result.verdicts[0]!.produced).toBe(200);
    expect(result.checks.map((c) => c.name)).toContain('Jobscope itself reports the gap (sequence sink: log, metric, listProducerGaps)');
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });
});
