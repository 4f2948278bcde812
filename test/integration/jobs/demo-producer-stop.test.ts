import { createServer, type AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { createDemoProducer, STOP_WAIT_MS } from '../../../src/jobs/demo-producer.js';
import { cleanupPrefix, TEST_REDIS_URL, testPrefix, testRedis } from '../../helpers/redis.js';

it('a demo producer whose Redis is away still stops, and counts the adds it gave up on', async () => {
  // A port that was just free: nothing answers there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const producer = createDemoProducer({ connection: `redis://127.0.0.1:${port}`, prefix: 'jobscope-test-demo-stop', ratePerSec: 50, seed: 1 });
  await new Promise((r) => setTimeout(r, 300));
  const started = Date.now();
  await producer.stop();
  // Two bounded waits (the adds, then the queues' close), not forever.
  expect(Date.now() - started).toBeLessThan(2 * STOP_WAIT_MS + 2000);
  const s = producer.stats();
  expect(s.enqueued).toBe(0);
  expect(s.abandoned).toBeGreaterThan(0);
}, 20_000);

it('a demo producer enqueues at the rate asked for, also at rates a timer per job cannot reach', async () => {
  const redis = testRedis();
  const prefix = testPrefix('demo-rate');
  try {
    // 600/s: one timer tick per job (every round(1000 / 600) = 2 ms) made at most 500/s.
    const rate = 600;
    const producer = createDemoProducer({ connection: TEST_REDIS_URL, prefix, bullPrefix: `${prefix}-bull`, ratePerSec: rate, seed: 3 });
    const started = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    await producer.stop();
    const seconds = (performance.now() - started) / 1000;
    const s = producer.stats();
    // Every job due was enqueued, failed, or skipped (and counted) because Redis lagged.
    const due = s.enqueued + s.errors + s.skipped + s.abandoned;
    expect(due).toBeGreaterThan(rate * seconds * 0.9);
    expect(due).toBeLessThanOrEqual(Math.ceil(rate * seconds));
    expect(s.errors).toBe(0);
  } finally {
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
  }
}, 20_000);
