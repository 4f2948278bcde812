import { createServer, type AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { createDemoProducer, STOP_WAIT_MS } from '../../../src/jobs/demo-producer.js';

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
