import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createJobLogger, takesStagedLifecycle } from '../../../src/logger/job-logger.js';
import { attemptBindings, BatchedLines, bindingMembers, createLogLines, eventLine, identityBindings, LEVEL_NUMBER } from '../../../src/logger/log-lines.js';
import { flatObjectJson } from '../../../src/logger/event-encoder.js';
import type { Level } from '../../../src/events/index.js';
import { captureCore } from './capture.js';

const identity = { machineId: 'm "1"', workerId: 'w\\1', serviceType: 'comfyui', connectorId: 'c-é' };

/** What pino itself writes for the same call on the attempt's child (the reference the lines are written to match). */
function pinoLine(level: Level, fields: Record<string, unknown>, message: string): Record<string, unknown> {
  let out = '';
  const log = pino({ level: 'debug', base: null }, { write: (s: string) => void (out += s) })
    .child(identityBindings(identity))
    .child(attemptBindings('job-"7"', 3, '4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7'));
  log[level](fields, message);
  return JSON.parse(out) as Record<string, unknown>;
}

describe('JSON lines of events, written by hand', () => {
  it.each([
    ['info', undefined, undefined, undefined, undefined],
    ['warn', 'retry "soon"\nline two', { gpu: 'A100', n: 2, nested: { a: [1, 2] } }, { model: 'gpt-4o', inputTokens: 12, costUsd: 0.0001 }, 1_800_000_000_000],
    ['error', 'ünïcode \u2028 and \u0001 control', { k: 'v' }, undefined, undefined],
    ['debug', '', undefined, undefined, 5],
  ] as const)('parse to what pino writes (%s, message %j)', (level, message, attrs, ai, at) => {
    const data = { durationMs: 1.5, outputCount: 4, label: 'a"b' };
    const id = '019a1b2c-3d4e-7f60-8a1b-2c3d4e5f6a7b';
    const head = `{"level":${LEVEL_NUMBER[level]},"time":1800000000123${bindingMembers(identityBindings(identity))}`;
    const target = bindingMembers(attemptBindings('job-"7"', 3, '4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7'));
    const text = eventLine(head, target, 'job.completed', id, 42, flatObjectJson(data), at, attrs && flatObjectJson(attrs), ai && flatObjectJson(ai), message);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.slice(0, -1)).not.toContain('\n');
    const fields: Record<string, unknown> = { event_type: 'job.completed', event_id: id, seq: 42, data };
    if (at !== undefined) fields.event_time = at;
    if (attrs !== undefined) fields.attrs = attrs;
    if (ai !== undefined) fields.ai = ai;
    const expected = pinoLine(level, fields, message ?? 'job.completed');
    expect({ ...(JSON.parse(text) as object), time: 0 }).toEqual({ ...expected, time: 0 });
  });

  it("writes a short attempt's three lines in one write, with the events' ids, on the pack's direct path", () => {
    const c = captureCore();
    const j = createJobLogger(c.core, 'job-1', { attempt: 2, queue: 'images' }, () => '{p}:events:0');
    if (!takesStagedLifecycle(j)) throw new Error('the job logger takes staged events');
    const t = c.clock.ms;
    j.stagedAttempt(t, t - 40, undefined, undefined, t + 7, 6.5, 2, undefined);
    expect(c.appends).toEqual([3]);
    expect(c.lines.map((l) => [l.event_type, l.event_id, l.seq, l.event_time, l.job_id, l.attempt, l.trace_id])).toEqual(
      c.events.map((e) => [e.type, e.id, e.seq, e.time, 'job-1', 2, j.traceId]),
    );
    // Attempt 2 without a wait given (a retry): none is written; its time since the enqueue is not one.
    expect(c.lines.map((l) => l.data)).toEqual([{}, {}, { durationMs: 6.5, outputCount: 2 }]);
    expect(c.lines.every((l) => l.level === 30 && l.machine_id === 'm-1' && l.msg === l.event_type)).toBe(true);
  });

  it('to stdout: collects the lines of one tick into one write at its end; a line written straight first writes what waits', async () => {
    const writes: string[] = [];
    const out = new BatchedLines({ write: (s: string) => void writes.push(s) });
    out.write('{"a":1}\n');
    out.write('{"a":2}\n');
    expect(writes).toEqual([]);
    await Promise.resolve();
    expect(writes).toEqual(['{"a":1}\n{"a":2}\n']);
    out.write('{"a":3}\n');
    out.writeNow('{"warn":1}\n');
    expect(writes).toEqual(['{"a":1}\n{"a":2}\n', '{"a":3}\n', '{"warn":1}\n']);
    await Promise.resolve();
    expect(writes).toHaveLength(3);
  });

  it('to pino.destination(): batched as stdout is', async () => {
    const writes: string[] = [];
    const fileLike = { fd: 9, flushSync: () => undefined, write: (s: string) => void writes.push(s) };
    const lines = createLogLines({ identity, destination: fileLike });
    lines.write('{"a":1}\n');
    lines.write('{"a":2}\n');
    expect(writes).toEqual([]);
    await Promise.resolve();
    expect(writes).toEqual(['{"a":1}\n{"a":2}\n']);
  });

  it("to a destination of the caller's: one line per write, at once", () => {
    const writes: string[] = [];
    const lines = createLogLines({ identity, destination: { write: (s: string) => void writes.push(s) } });
    lines.write('{"a":1}\n{"a":2}\n');
    lines.log.warn('careful');
    expect(writes.slice(0, 2)).toEqual(['{"a":1}\n', '{"a":2}\n']);
    expect(JSON.parse(writes[2]!)).toMatchObject({ level: 40, msg: 'careful', machine_id: 'm "1"', worker_id: 'w\\1' });
  });
});
