import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorLogger, type ConnectorLoggerOptions } from '../../../src/logger/connector-logger.js';
import { RedisProcess } from '../../helpers/redis-process.js';
import { testPrefix, waitFor } from '../../helpers/redis.js';
import { lineCapture, readEvents } from './stream-reader.js';

/**
 * Redis going away while jobs keep logging. Each test owns its redis-server (AOF on, so what
 * reached Redis before a stop is still there after the restart).
 */

let server: RedisProcess;
let spoolDir: string;
let prefix: string;
const loggers: ConnectorLogger[] = [];
const clients: Redis[] = [];

beforeEach(async () => {
  server = new RedisProcess({ appendfsync: 'always' });
  await server.start();
  spoolDir = mkdtempSync(join(tmpdir(), 'jobscope-spool-'));
  prefix = testPrefix('outage');
});
afterEach(async () => {
  await Promise.all(loggers.splice(0).map((l) => l.close(500)));
  for (const c of clients.splice(0)) c.disconnect();
  await server.destroy();
  rmSync(spoolDir, { recursive: true, force: true });
});

function makeLogger(extra: Partial<ConnectorLoggerOptions> = {}) {
  const out = lineCapture();
  const logger = new ConnectorLogger({
    machineId: 'machine-01',
    workerId: 'worker-001',
    serviceType: 'simulated',
    connectorId: 'sim-1',
    redis: server.url,
    prefix,
    spoolDir,
    destination: out,
    stdout: false,
    validateEvents: true,
    ...extra,
  });
  loggers.push(logger);
  return { logger, lines: out.lines };
}

function client(): Redis {
  const c = new Redis(server.url, { maxRetriesPerRequest: 3 });
  clients.push(c);
  return c;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('publisher during a Redis outage', () => {
  it('loses nothing: buffer bounded, spool used, every event arrives once, in order', async () => {
    const MAX = 40;
    const { logger } = makeLogger({ bufferMaxEvents: MAX, flushIntervalMs: 5, commandTimeoutMs: 1000 });
    const job = logger.withJobContext('job-outage');
    let sent = 0;
    let maxBuffered = 0;
    const log = (n: number) => {
      for (let i = 0; i < n; i++, sent++) job.info(`line ${sent}`, { i: sent });
      maxBuffered = Math.max(maxBuffered, logger.stats().buffered);
    };
    log(100);
    await waitFor(() => logger.stats().published === 100, { what: 'first 100 published' });

    const stopped = server.stop();
    // The job keeps logging while Redis goes away and stays away for several seconds.
    const downUntil = Date.now() + 3000;
    while (Date.now() < downUntil) {
      log(5);
      await new Promise((r) => setTimeout(r, 10));
    }
    await stopped;
    expect(logger.stats().connected).toBe(false);
    await server.start();
    log(50);
    expect(await logger.flush(15_000)).toBe(true);

    const stats = logger.stats();
    const events = await readEvents(client(), prefix);
    expect(events).toHaveLength(sent);
    expect(new Set(events.map((e) => e.id)).size).toBe(sent);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(maxBuffered).toBeLessThanOrEqual(MAX);
    expect(stats.spooled).toBeGreaterThan(0);
    expect(stats).toMatchObject({ accepted: sent, published: sent, dropped: 0, spoolPending: 0, buffered: 0 });
    expect(stats.replayed).toBe(stats.spooled);
  });

  it('replays a spool left by a logger closed while Redis was away', async () => {
    await server.stop();
    const first = makeLogger({ bufferMaxEvents: 20, spoolName: 'worker-a', commandTimeoutMs: 200 });
    const job = first.logger.withJobContext('job-before-restart');
    for (let i = 0; i < 75; i++) job.jobProgress(i);
    expect(await first.logger.close(300)).toBe(false);
    expect(first.logger.stats()).toMatchObject({ accepted: 75, dropped: 0, spoolPending: 75 });

    await server.start();
    const second = makeLogger({ spoolName: 'worker-a' });
    second.logger.withJobContext('job-after-restart').jobStarted();
    expect(await second.logger.flush(10_000)).toBe(true);

    const events = await readEvents(client(), prefix);
    expect(events).toHaveLength(76);
    expect(events.slice(0, 75).map((e) => [e.producer, e.seq])).toEqual(
      Array.from({ length: 75 }, (_, i) => [first.logger.producer, i]),
    );
    expect(events[75]).toMatchObject({ producer: second.logger.producer, seq: 0, type: 'job.started' });
    expect(second.logger.stats()).toMatchObject({ replayed: 75, spoolPending: 0 });
  });

  it('drops only past both bounds, counts it and warns', async () => {
    await server.stop();
    const { logger, lines } = makeLogger({ bufferMaxEvents: 10, spoolMaxBytes: 6000, commandTimeoutMs: 200 });
    const job = logger.withJobContext('job-flood');
    for (let i = 0; i < 200; i++) {
      job.info(`flood ${i}`, { payload: 'x'.repeat(50) });
      if (i % 50 === 0) await tick();
    }
    const s = logger.stats();
    expect(s.accepted).toBe(200);
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.buffered).toBeLessThanOrEqual(10);
    expect(s.spoolPending).toBeGreaterThan(0);
    expect(s.buffered + s.spoolPending + s.dropped).toBe(200);
    expect(lines.some((l) => l.level === 40 && String(l.msg).includes('dropped'))).toBe(true);

    await server.start();
    expect(await logger.flush(10_000)).toBe(true);
    const events = await readEvents(client(), prefix);
    expect(events).toHaveLength(200 - s.dropped);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});
