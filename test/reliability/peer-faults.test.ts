import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../helpers/redis.js';
import { describeFailures, scenarioPasses } from './scenario-result.js';
import { runFluentdFaults, runHttpFaults, runPiiScrubbing } from './scenarios/peer-faults.js';

let redis: Redis;
beforeAll(() => void (redis = testRedis()));
afterAll(() => redis.disconnect());

describe('reliability 5, 6, 8: protocol faults and PII', () => {
  it('5: Fluentd acks withheld and a connection cut mid-chunk: resent, 0 missing', async () => {
    const result = await runFluentdFaults({ redis, seed: 5, jobs: 20 });
    expect(result.verdicts[1]!.produced).toBe(200);
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });

  it('6: Sentry 429/rate limits/500/503/reset and OTLP 429/503/500/slow: backoff honored, all delivered or dead-lettered', async () => {
    const result = await runHttpFaults({ redis, seed: 6, jobs: 20 });
    expect(result.verdicts[3]!.produced).toBeGreaterThan(0);
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });

  it('8: configured fields and patterns appear in no request body to any sink', async () => {
    const result = await runPiiScrubbing({ redis, seed: 8, jobs: 10 });
    expect(scenarioPasses(result), describeFailures(result)).toBe(true);
  });
});
