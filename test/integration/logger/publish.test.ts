import { describe, expect, it } from 'vitest';
import { eventStreamKey } from '../../../src/events/index.js';
import { writeBatch } from '../../../src/logger/batch-writer.js';
import type { ConnectorLogger } from '../../../src/logger/connector-logger.js';
import { makeEvent } from '../../helpers/events.js';
import { waitFor } from '../../helpers/redis.js';
import { useLoggerTestEnv } from './logger-env.js';
import { lineCapture, readEvents } from './stream-reader.js';

const env = useLoggerTestEnv('logger');

function makeLogger(extra: Partial<ConstructorParameters<typeof ConnectorLogger>[0]> = {}) {
  const out = lineCapture();
  const logger = env.logger({
    machineId: 'machine-01',
    workerId: 'worker-001',
    serviceType: 'comfyui',
    connectorId: 'comfyui-local',
    destination: out,
    validateEvents: true,
    ...extra,
  });
  return { logger, lines: out.lines };
}

describe('ConnectorLogger → Redis stream', () => {
  it('delivers N events in order, valid, with identity, ids and seq 0..N-1', async () => {
    const { logger } = makeLogger();
    const N = 600;
    const job = logger.withJobContext('job-42', { attempt: 1, queue: 'images' });
    job.jobReceived();
    job.jobStarted();
    for (let i = 0; i < N - 3; i++) job.jobProgress((i / (N - 3)) * 100, { step: i, totalSteps: N - 3 });
    job.jobCompleted({ outputCount: 1 });
    expect(await logger.flush(5000)).toBe(true);

    const events = await readEvents(env.redis, env.prefix);
    expect(events).toHaveLength(N);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(new Set(events.map((e) => e.id)).size).toBe(N);
    expect([...events.map((e) => e.id)].sort()).toEqual(events.map((e) => e.id));
    const identity = { machineId: 'machine-01', workerId: 'worker-001', serviceType: 'comfyui', connectorId: 'comfyui-local' };
    const summary = (e: (typeof events)[number]) => [e.source.machineId, e.source.workerId, e.source.serviceType, e.source.connectorId, e.producer, e.job?.id, e.job?.attempt, e.trace?.traceId];
    const expected = [...Object.values(identity), logger.producer, 'job-42', 1, job.traceId];
    expect(events.map(summary)).toEqual(events.map(() => expected));
    expect(events[0]!.type).toBe('job.received');
    expect(events.at(-1)!.type).toBe('job.completed');
    expect(logger.stats()).toMatchObject({ accepted: N, published: N, buffered: 0, dropped: 0, invalidCalls: 0, connected: true });
  });

  it('publishes worker events and reports bad calls without throwing', async () => {
    const { logger, lines } = makeLogger();
    logger.workerStarted({ version: '1.2.3', concurrency: 2, queues: ['images'], heartbeatIntervalMs: 5000 });
    const stop = logger.startHeartbeats(60_000, () => ['job-1', 'job-2']);
    logger.healthCheck('degraded', { queueDepth: 12 });
    logger.serviceEvent('model-loaded', 'sdxl loaded', { model: 'sdxl' });
    expect(() => logger.healthCheck('sideways' as 'healthy')).not.toThrow();
    expect(() => logger.heartbeat({ currentJobs: 'nope' as unknown as string[] })).not.toThrow();
    stop();
    logger.workerStopped({ reason: 'SIGTERM' });
    expect(await logger.flush(5000)).toBe(true);

    const events = await readEvents(env.redis, env.prefix);
    expect(events.map((e) => e.type)).toEqual(['worker.started', 'worker.heartbeat', 'log', 'log', 'worker.heartbeat', 'worker.stopped']);
    expect(events[1]).toMatchObject({ data: { intervalMs: 60_000, currentJobs: ['job-1', 'job-2'] } });
    expect(events[2]).toMatchObject({ level: 'warn', attrs: { queueDepth: 12 }, data: { kind: 'health', status: 'degraded' } });
    expect(events[3]).toMatchObject({ message: 'sdxl loaded', data: { kind: 'service', name: 'model-loaded' } });
    expect(events[4]).toMatchObject({ data: { currentJobs: [] } });
    expect(logger.stats().invalidCalls).toBe(2);
    expect(lines.filter((l) => l.event_type === 'jobscope.invalid_call').map((l) => l.call)).toEqual(['healthCheck', 'heartbeat']);
  });

  it('with packing off writes one whole event per entry, as pipelines older than packing read', async () => {
    const { logger } = makeLogger({ packEvents: false });
    const job = logger.withJobContext('job-7', { attempt: 1, queue: 'images' });
    job.jobReceived();
    job.jobStarted();
    job.jobCompleted({ outputCount: 2 });
    expect(await logger.flush(5000)).toBe(true);
    const rows = await env.redis.xrange(eventStreamKey({ prefix: env.prefix }), '-', '+');
    expect(rows.map(([, f]) => f.filter((_, i) => i % 2 === 0))).toEqual([['v', 'e'], ['v', 'e'], ['v', 'e']]);
    const events = rows.map(([, f]) => JSON.parse(f[3]!) as { type: string; job: { id: string }; source: { machineId: string } });
    expect(events.map((e) => [e.type, e.job.id, e.source.machineId])).toEqual([
      ['job.received', 'job-7', 'machine-01'],
      ['job.started', 'job-7', 'machine-01'],
      ['job.completed', 'job-7', 'machine-01'],
    ]);
  });

  it('with packing off, events replayed from the spool are written one whole event per entry too', async () => {
    // Redis unreachable: what passes the memory bound, and what is left at close, goes to the spool.
    const away = makeLogger({ packEvents: false, redis: 'redis://127.0.0.1:1', bufferMaxEvents: 4, commandTimeoutMs: 200 }).logger;
    const job = away.withJobContext('job-8', { attempt: 1, queue: 'images' });
    for (let i = 0; i < 10; i++) job.info(`line ${i}`);
    await away.close(300);
    expect(away.stats().spooled).toBeGreaterThan(0);
    const { logger } = makeLogger({ packEvents: false });
    // The new logger replays the spool in the background.
    await waitFor(() => logger.stats().replayed === 10, { what: 'the spool replayed' });
    const rows = await env.redis.xrange(eventStreamKey({ prefix: env.prefix }), '-', '+');
    const lines = rows.map(([, f]) => f.filter((_, i) => i % 2 === 0)).filter((names) => names.includes('e') || names.includes('b'));
    expect(lines.every((names) => names.join() === 'v,e')).toBe(true);
    const messages = rows.map(([, f]) => JSON.parse(f[3]!) as { message?: string }).map((e) => e.message).filter((m) => m?.startsWith('line'));
    expect(messages).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i}`));
  });

  it("a caller's clock that gives no time (NaN, a fraction, 0 from fake timers) does not make the events invalid", async () => {
    const clocks = [() => Number.NaN, () => 1_796_221_893_062.5, () => 0];
    const loggers = clocks.map((now, i) => makeLogger({ now, validateEvents: false, workerId: `worker-${i}` }).logger);
    const before = Date.now();
    for (const l of loggers) {
      const j = l.withJobContext('job-clock');
      j.jobReceived();
      j.info('tick');
      j.jobCompleted();
      expect(await l.flush(5000)).toBe(true);
    }
    // readEvents decodes each with the readers' rules: an invalid time would fail here.
    const events = await readEvents(env.redis, env.prefix);
    expect(events).toHaveLength(9);
    for (const e of events) expect(e.time).toBeGreaterThanOrEqual(before);
  });

  it('close is idempotent and later calls are counted as dropped, not thrown', async () => {
    const { logger } = makeLogger();
    logger.withJobContext('j').jobStarted();
    const a = logger.close(2000);
    expect(logger.close(2000)).toBe(a);
    expect(await a).toBe(true);
    expect(() => logger.withJobContext('j').jobCompleted()).not.toThrow();
    expect(logger.stats()).toMatchObject({ published: 1, dropped: 1 });
    expect(await readEvents(env.redis, env.prefix)).toHaveLength(1);
  });
});

describe('drainOnSignals', () => {
  it('closes (drains) the logger on the signal', async () => {
    const { logger } = makeLogger({ flushIntervalMs: 60_000 });
    // Another listener keeps the default action (terminate) from being re-raised in the test.
    const keepAlive = () => {};
    process.on('SIGUSR2', keepAlive);
    try {
      logger.drainOnSignals({ signals: ['SIGUSR2'], timeoutMs: 2000 });
      logger.withJobContext('job-sig').jobStarted();
      expect(logger.stats().published).toBe(0);
      process.emit('SIGUSR2', 'SIGUSR2');
      await waitFor(() => logger.stats().published === 1, { what: 'drain on signal' });
      expect(await readEvents(env.redis, env.prefix)).toHaveLength(1);
      logger.withJobContext('job-sig').jobCompleted();
      expect(logger.stats().dropped).toBe(1);
    } finally {
      process.off('SIGUSR2', keepAlive);
    }
  });
});

describe('batch writer', () => {
  it('does not duplicate a batch that is sent again (lost replies, retries)', async () => {
    const stream = eventStreamKey({ prefix: env.prefix });
    const entries = Array.from({ length: 5 }, (_, seq) => {
      const json = JSON.stringify(makeEvent({ type: 'job.started', producer: 'p-dup', seq }));
      return { stream, json, bytes: json.length, producer: 'p-dup', seq };
    });
    expect(await writeBatch(env.redis, entries.slice(0, 3), 1000)).toEqual({ confirmed: 3 });
    expect(await writeBatch(env.redis, entries, 1000)).toEqual({ confirmed: 5 });
    expect(await writeBatch(env.redis, entries, 1000)).toEqual({ confirmed: 5 });
    const events = await readEvents(env.redis, env.prefix);
    expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
  });
});
