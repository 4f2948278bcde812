/**
 * A pipeline process for the benchmarks that need one apart from the measuring process
 * (latency, memory, scaling): the real pipeline (`createPipeline` with sinks from the registry)
 * and, when asked, the real API server (SSE at `/api/stream`). Settings as JSON in
 * BENCH_PIPELINE: `{ redisUrl, prefix, sinks, api?, batchSize?, consumerName? }`. Sends
 * `{ type: 'ready', apiPort? }`, answers `{ type: 'status' }` with the sink loops' counters,
 * and on SIGTERM drains and exits. Runs the built `dist/` code when present (see code-root.ts);
 * `ready` says which (`code: 'dist' | 'src'`).
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type * as ApiModule from '../../src/api/api-server.js';
import type * as PipelineModule from '../../src/pipeline/index.js';
import { codeKind, importCode } from './code-root.js';

interface Settings {
  redisUrl: string;
  prefix: string;
  sinks: string[];
  api?: boolean;
  batchSize?: number;
  consumerName?: string;
}

const s = JSON.parse(process.env.BENCH_PIPELINE ?? '{}') as Settings;
const logger = pino({ level: 'warn' });
const redis = new Redis(s.redisUrl, { maxRetriesPerRequest: null });
const registry = new Registry();
const { createPipeline, createSinksFromConfig, registerBuiltinSinks } = await importCode<typeof PipelineModule>('pipeline/index.js');
registerBuiltinSinks();
const sinks = await createSinksFromConfig(s.sinks, { env: process.env, redis, prefix: s.prefix, metricsRegistry: registry, logger });
const pipeline = createPipeline({
  redis,
  prefix: s.prefix,
  sinks,
  metricsRegistry: registry,
  logger,
  batchSize: s.batchSize ?? 200,
  statsIntervalMs: 60_000,
  ...(s.consumerName !== undefined ? { consumerName: s.consumerName } : {}),
});
await pipeline.start();
let api: ApiModule.ApiServer | undefined;
if (s.api === true) {
  const { startApiServer } = await importCode<typeof ApiModule>('api/api-server.js');
  api = await startApiServer({
    redis: new Redis(s.redisUrl, { maxRetriesPerRequest: null }),
    prefix: s.prefix,
    auth: { allowAnonymous: true },
    host: '127.0.0.1',
    port: 0,
    sse: { maxQueuePerClient: 100_000, blockMs: 1000 },
    stuck: { autoStart: false },
  } as Parameters<typeof startApiServer>[0]);
}

process.on('message', (m: { type: string }) => {
  if (m.type === 'status') process.send!({ type: 'status', sinks: pipeline.status().sinks });
});
process.once('SIGTERM', () => {
  void (async () => {
    await api?.close();
    await pipeline.close();
    redis.disconnect();
    process.exit(0);
  })();
});
process.send!({ type: 'ready', code: codeKind, ...(api ? { apiPort: api.port } : {}) });
