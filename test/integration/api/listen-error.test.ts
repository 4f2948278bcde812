import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiServer } from '../../../src/api/api-server.js';
import { ListenError } from '../../../src/errors.js';
import { startMetricsServer } from '../../../src/pipeline/metrics-server.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../helpers/redis.js';

/** A port already taken: what a user hits when a second stack (or another program) holds it. */
let holder: Server;
let port: number;
let redis: Redis;
const prefix = testPrefix('listen');

beforeAll(async () => {
  redis = testRedis();
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  port = (holder.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => holder.close(() => resolve()));
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

it('the API on a taken port fails with the address, the cause and the setting to change', async () => {
  const started = startApiServer({ redis, prefix, port, host: '127.0.0.1', auth: { token: 't' }, metricsRegistry: new Registry() });
  const err = await started.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ListenError);
  expect((err as Error).message).toBe(
    `the API cannot listen on 127.0.0.1:${port}: the port is already in use (another Jobscope, or another program). Stop that program, or pick another port with PORT (or --port).`,
  );
  expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
});

it('the metrics server on a taken port names METRICS_PORT', async () => {
  const err = await startMetricsServer({ registry: new Registry(), port, host: '127.0.0.1', health: () => ({ ok: true }) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ListenError);
  expect((err as Error).message).toMatch(new RegExp(`^the metrics server cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use .* METRICS_PORT \\(0 turns it off\\)\\.$`));
});
