import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../helpers/redis.js';
import { describeFailures, scenarioPasses } from './scenario-result.js';
import { runSinkOutages } from './scenarios/sink-outages.js';

let redis: Redis;
beforeAll(() => void (redis = testRedis()));
afterAll(() => redis.disconnect());

describe('reliability 4: each sink down for a while', () => {
  it('Fluentd, OTLP and Sentry down: 0 missing, status store live, stream within budget', async () => {
    const result = await runSinkOutages({ redis, seed: 4, jobsPerWave: 30, outageMs: 2000, streamBudget: 100 });
    expect(result.verdicts.map((v) => v.sink)).toEqual(['status', 'fluentd', 'otel', 'sentry']);
    expect(result.verdicts[0]!.produced).toBe(300);
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });
});
