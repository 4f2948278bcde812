import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSimulatedConnector } from '../../../connectors/simulated.js';
import { createJobWorker } from '../../../src/jobs/job-worker.js';
import { createJobProducer } from '../../../src/jobs/producer.js';
import { ConnectorLogger } from '../../../src/logger/connector-logger.js';
import { cleanupPrefix, TEST_REDIS_URL, testPrefix, testRedis } from '../../helpers/redis.js';

/**
 * A Redis that takes connections and never answers (a hung server, a black-holed network): the
 * worker and the producer must still close, within their deadlines, without an error that
 * nobody hears (such an error ends the process).
 */

let silent: Server;
let url: string;
const sockets: Socket[] = [];
const prefix = testPrefix('silent');
const redis = testRedis();

beforeAll(async () => {
  silent = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  url = `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

it('a job worker and a producer whose Redis never answers still close, and nothing goes unheard', async () => {
  const unheard: unknown[] = [];
  const onUnheard = (err: unknown) => unheard.push(err);
  process.on('unhandledRejection', onUnheard);
  try {
    // The logger writes to the real Redis: only BullMQ and the cancel listener hang.
    const logger = new ConnectorLogger({ machineId: 'm', workerId: 'w', serviceType: 'simulated', redis: TEST_REDIS_URL, prefix, stdout: false, spoolMaxBytes: 0 });
    const worker = createJobWorker({
      connection: url,
      queue: 'never',
      connector: createSimulatedConnector({ seed: 1 }),
      logger,
      prefix,
      shutdownTimeoutMs: 500,
      onError: () => undefined,
    });
    const producer = createJobProducer({ connection: url, queue: 'never', prefix });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await producer.close();
    await worker.close('test');
    await logger.close();
    // The drain deadline, the cancel listener's wait for its subscription (1 s), and slack.
    expect(Date.now() - started).toBeLessThan(4000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(unheard).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnheard);
  }
});
