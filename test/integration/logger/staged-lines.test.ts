import { describe, expect, it } from 'vitest';
import { eventStreamKey, type JobscopeEvent } from '../../../src/events/index.js';
import { takesStagedLifecycle } from '../../../src/logger/job-logger.js';
import type { ConnectorLogger } from '../../../src/logger/connector-logger.js';
import { PACK_MAX_EVENTS } from '../../../src/logger/pack.js';
import type { JobLogger } from '../../../src/logger/types.js';
import { waitFor } from '../../helpers/redis.js';
import { useLoggerTestEnv } from './logger-env.js';
import { readEvents } from './stream-reader.js';

/**
 * The job runtime's staged lifecycle events (received + started, completed) are written as
 * lines of the open pack directly, without an object per event (LoggerCore.direct). What a
 * pipeline reads must be exactly what the emit path gives, wherever the packs are cut.
 */

const env = useLoggerTestEnv('staged');

function makeLogger(workerId: string, extra: Partial<ConstructorParameters<typeof ConnectorLogger>[0]> = {}): ConnectorLogger {
  const logger = env.logger({
    machineId: 'machine-01',
    workerId,
    serviceType: 'simulated',
    connectorId: 'sim',
    stdout: false,
    ...extra,
  });
  return logger;
}

const T0 = 1_800_000_000_000;

/** Short attempts written whole (received, started and completed in one call) by {@link stage}. */
const SHORT = 12;
/** Events {@link stage} writes: 3 per attempt and 6 log lines. */
const STAGED_EVENTS = (40 + SHORT) * 3 + 6;

/**
 * 40 attempts: all started, then completed in reverse order with a log line now and then, so
 * packs close between an attempt's lines and the two ways of writing take turns. Between the
 * starts, {@link SHORT} short attempts write their three events at once (stagedAttempt).
 */
function stage(logger: ConnectorLogger): void {
  const jobs: JobLogger[] = [];
  for (let i = 0; i < 40; i++) {
    const jl = logger.withJobContext(`job-${i}`, { attempt: 1 + (i % 3), queue: 'images', name: 'render' });
    if (!takesStagedLifecycle(jl)) throw new Error('a ConnectorLogger job logger takes staged lifecycle events');
    jl.stagedStart(T0 + i, T0 - 100 + i, i % 2 === 0 ? 100 : undefined, i % 5 === 0 ? 3 : undefined);
    jobs.push(jl);
    if (i % 3 === 0 && i / 3 < SHORT) {
      const k = i / 3;
      const short = logger.withJobContext(`short-${k}`, { attempt: 1, queue: 'images', name: 'caption' });
      if (!takesStagedLifecycle(short)) throw new Error('a ConnectorLogger job logger takes staged lifecycle events');
      // The same millisecond for all three events, or a later one for the completion.
      short.stagedAttempt(T0 + i, T0 - 50, k % 2 === 0 ? 50 : undefined, k % 4 === 0 ? 2 : undefined, T0 + i + (k % 3), 1.5 + k, k % 2 === 1 ? 4 : undefined, undefined);
    }
  }
  for (let i = 39; i >= 0; i--) {
    const jl = jobs[i]!;
    if (i % 7 === 0) jl.info(`rendering ${i}`);
    if (takesStagedLifecycle(jl)) jl.stagedCompleted(T0 + 500 + i, 12.345 + i, undefined, i % 4 === 0 ? 2 : undefined, undefined);
  }
}

/** What a pipeline sees of an event, without what differs between two loggers (ids, producer, trace; a log line's time is now). */
const seen = (e: JobscopeEvent) => ({ type: e.type, level: e.level, time: e.type === 'log' ? 'now' : e.time, seq: e.seq, data: e.data, job: e.job, message: e.message, worker: e.source.workerId });

describe('staged lifecycle events written as pack lines', () => {
  it('read back exactly as the same events emitted one by one, across pack boundaries', async () => {
    const direct = makeLogger('direct');
    stage(direct);
    expect(await direct.flush(5000)).toBe(true);
    const viaLines = await readEvents(env.redis, env.prefix);
    const entries = await env.redis.xrange(eventStreamKey({ prefix: env.prefix }), '-', '+');
    await env.redis.del(eventStreamKey({ prefix: env.prefix }));

    // Validation needs every event whole, so this logger emits them one by one.
    const emitted = makeLogger('direct', { validateEvents: true });
    stage(emitted);
    expect(await emitted.flush(5000)).toBe(true);
    const viaEmit = await readEvents(env.redis, env.prefix);

    expect(viaLines).toHaveLength(STAGED_EVENTS);
    expect(viaLines.map(seen)).toEqual(viaEmit.map(seen));
    expect(viaLines.map((e) => e.seq)).toEqual(viaLines.map((_, i) => i));
    expect(new Set(viaLines.map((e) => e.id)).size).toBe(viaLines.length);
    // Ids sort in emission order, those taken from the line before (`"^"`) included.
    expect(viaLines.map((e) => e.id)).toEqual(viaLines.map((e) => e.id).sort());
    // One trace per attempt, on every line of it, whichever pack it landed in.
    for (const id of [...Array.from({ length: 40 }, (_, i) => `job-${i}`), ...Array.from({ length: SHORT }, (_, k) => `short-${k}`)]) {
      const of = viaLines.filter((e) => e.job?.id === id);
      expect(of.map((e) => e.type).filter((t) => t !== 'log')).toEqual(['job.received', 'job.started', 'job.completed']);
      expect(new Set(of.map((e) => `${e.trace?.traceId}/${e.trace?.spanId}`)).size).toBe(1);
    }
    // Packed: at most PACK_MAX_EVENTS events an entry, attempts written once per entry and referred to after.
    const payloads = entries.map(([, f]) => f[f.indexOf('b') + 1]!);
    expect(payloads.length).toBeGreaterThan(1);
    expect(payloads.every((p) => p.split('\n').length <= PACK_MAX_EVENTS)).toBe(true);
    expect(payloads.some((p) => p.includes('"@":'))).toBe(true);
    // Most lines follow the one before them: no id, seq or level of their own.
    const lines = payloads.flatMap((p) => p.split('\n'));
    expect(lines.filter((l) => l.startsWith('{"^":1,')).length).toBeGreaterThan(lines.length / 2);
    expect(direct.stats()).toMatchObject({ accepted: viaLines.length, published: viaLines.length, dropped: 0, invalidCalls: 0 });
  });

  it('with packing off are written one whole event per entry', async () => {
    const logger = makeLogger('unpacked', { packEvents: false });
    stage(logger);
    expect(await logger.flush(5000)).toBe(true);
    const entries = await env.redis.xrange(eventStreamKey({ prefix: env.prefix }), '-', '+');
    expect(entries).toHaveLength(STAGED_EVENTS);
    expect(entries.every(([, f]) => f.length === 4 && f[2] === 'e')).toBe(true);
    expect((await readEvents(env.redis, env.prefix)).map((e) => e.seq)).toEqual(entries.map((_, i) => i));
  });

  it('past the memory bound go the way of every event: to the spool, then to Redis, none lost', async () => {
    // Redis unreachable and 10 events of memory: the rest must spill to the spool.
    const away = makeLogger('away', { redis: 'redis://127.0.0.1:1', bufferMaxEvents: 10, commandTimeoutMs: 200, spoolName: 'staged' });
    stage(away);
    expect(away.stats().buffered).toBeLessThanOrEqual(10);
    expect(away.stats().spooled).toBeGreaterThan(0);
    await away.close(300);
    expect(away.stats()).toMatchObject({ accepted: STAGED_EVENTS, dropped: 0 });

    const next = makeLogger('next', { spoolName: 'staged' });
    await waitFor(() => next.stats().replayed === STAGED_EVENTS, { what: 'the spool replayed' });
    const events = await readEvents(env.redis, env.prefix);
    expect(events.map((e) => [e.producer, e.seq])).toEqual(events.map((_, i) => [away.producer, i]));
    expect(events.filter((e) => e.type === 'job.completed' && e.job?.id.startsWith('job-')).map((e) => e.job?.id)).toEqual(Array.from({ length: 40 }, (_, i) => `job-${39 - i}`));
  });

  it('write the job and trace again when a pack is cut just before an attempt\'s next line', async () => {
    const logger = makeLogger('cut');
    const start = (id: string) => {
      const jl = logger.withJobContext(id, { attempt: 1, queue: 'images' });
      if (!takesStagedLifecycle(jl)) throw new Error('a ConnectorLogger job logger takes staged lifecycle events');
      jl.stagedStart(T0, T0 - 10, 10, undefined);
      return jl;
    };
    // 'first' writes lines 0 and 1; 31 more attempts fill the pack to PACK_MAX_EVENTS lines; the
    // completed event of 'first' then opens a new pack, whose line 0 it is.
    const first = start('first');
    for (let i = 0; i < (PACK_MAX_EVENTS - 2) / 2; i++) start(`filler-${i}`);
    if (takesStagedLifecycle(first)) first.stagedCompleted(T0 + 5, 5, undefined, undefined, undefined);
    expect(await logger.flush(5000)).toBe(true);
    const events = await readEvents(env.redis, env.prefix);
    expect(events).toHaveLength(PACK_MAX_EVENTS + 1);
    const mine = events.filter((e) => e.job?.id === 'first');
    expect(mine.map((e) => e.type)).toEqual(['job.received', 'job.started', 'job.completed']);
    expect(new Set(mine.map((e) => e.trace?.spanId)).size).toBe(1);
  });

  it('carry the usage recorded before them, and are dropped and counted once the logger is closed', async () => {
    const logger = makeLogger('usage');
    const jl = logger.withJobContext('job-u', { attempt: 1 });
    if (!takesStagedLifecycle(jl)) throw new Error('a ConnectorLogger job logger takes staged lifecycle events');
    jl.recordUsage({ model: 'gpt-x', inputTokens: 12, outputTokens: 3 });
    jl.stagedStart(T0, T0 - 10, 10, undefined);
    jl.stagedCompleted(T0 + 5, 5, undefined, undefined, undefined);
    // The same through the call that writes all three at once.
    const at = logger.withJobContext('job-u2', { attempt: 1 });
    if (!takesStagedLifecycle(at)) throw new Error('a ConnectorLogger job logger takes staged lifecycle events');
    at.recordUsage({ model: 'gpt-x', inputTokens: 7 });
    at.stagedAttempt(T0, T0 - 10, 10, undefined, T0 + 5, 5, undefined, undefined);
    expect(await logger.flush(5000)).toBe(true);
    const events = await readEvents(env.redis, env.prefix);
    expect(events.map((e) => [e.type, e.ai?.inputTokens])).toEqual([
      ['job.received', 12],
      ['job.started', 12],
      ['job.completed', 12],
      ['job.received', 7],
      ['job.started', 7],
      ['job.completed', 7],
    ]);
    await logger.close(1000);
    const late = logger.withJobContext('job-late');
    if (takesStagedLifecycle(late)) late.stagedStart(T0, T0 - 10, 10, undefined);
    expect(logger.stats()).toMatchObject({ accepted: 6, published: 6, dropped: 2 });
  });

  it('count against the memory bound as the same events emitted one by one', async () => {
    // Redis unreachable: everything stays in memory, so the counts can be compared.
    const opts = { redis: 'redis://127.0.0.1:1', commandTimeoutMs: 200, spoolMaxBytes: 0 };
    const direct = makeLogger('mem', opts);
    const emitted = makeLogger('mem', { ...opts, validateEvents: true });
    stage(direct);
    stage(emitted);
    const a = direct.stats();
    const b = emitted.stats();
    expect(a.buffered).toBe(STAGED_EVENTS);
    expect([a.buffered, a.bufferedBytes]).toEqual([b.buffered, b.bufferedBytes]);
  });

  it('write their own ids when another logger of the process took ids in between', async () => {
    const one = makeLogger('one');
    const two = makeLogger('two');
    for (let i = 0; i < 20; i++) {
      for (const logger of [one, two]) {
        const jl = logger.withJobContext(`${logger.producer}-job-${i}`, { attempt: 1 });
        if (!takesStagedLifecycle(jl)) throw new Error('a ConnectorLogger job logger takes staged lifecycle events');
        if (i % 2 === 0) {
          jl.stagedStart(T0, T0 - 10, 10, undefined);
          jl.stagedCompleted(T0 + 5, 5, undefined, undefined, undefined);
        } else jl.stagedAttempt(T0, T0 - 10, 10, undefined, T0 + 5, 5, undefined, undefined);
      }
    }
    expect(await one.flush(5000)).toBe(true);
    expect(await two.flush(5000)).toBe(true);
    const events = await readEvents(env.redis, env.prefix);
    expect(events).toHaveLength(2 * 20 * 3);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    for (const logger of [one, two]) {
      const mine = events.filter((e) => e.producer === logger.producer);
      expect(mine.map((e) => e.seq)).toEqual(mine.map((_, i) => i));
      expect(mine.map((e) => e.id)).toEqual(mine.map((e) => e.id).sort());
    }
  });
});
