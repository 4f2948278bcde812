import { describe, expect, it } from 'vitest';
import { MAX_ENTRY_BYTES } from '../../../src/events/index.js';
import { createJobLogger, type StagedLifecycle } from '../../../src/logger/job-logger.js';
import type { JobContextOptions } from '../../../src/logger/types.js';
import { captureCore, type Captured } from './capture.js';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function jobLogger(c: Captured, jobId = 'job-1', options?: JobContextOptions) {
  return createJobLogger(c.core, jobId, options, (key) => `{p}:events:${key}`);
}

describe('job logger: error classification through jobFailed', () => {
  it.each([
    [new Error('Request timed out after 30s'), 'timeout', 'Error'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8188'), { code: 'ECONNREFUSED' }), 'network', 'Error'],
    [{ type: 'RateLimitError', message: '429 Too Many Requests' }, 'rate_limit', 'RateLimitError'],
    [{ type: 'RuntimeError', message: 'CUDA out of memory. Tried to allocate 2.00 GiB' }, 'out_of_memory', 'RuntimeError'],
    ['checkpoint sdxl.safetensors not found', 'model', 'Error'],
    [{ type: 'Weird', message: 'something odd' }, 'unknown', 'Weird'],
  ] as const)('classifies %s as %s', (error, category, type) => {
    const c = captureCore();
    jobLogger(c).jobFailed(error, { willRetry: false });
    const e = c.events[0]!;
    expect(e.type).toBe('job.failed');
    if (e.type !== 'job.failed') return;
    expect(e.data.error.category).toBe(category);
    expect(e.data.error.type).toBe(type);
    expect(e.data.willRetry).toBe(false);
    expect(e.level).toBe('error');
  });

  it('keeps the stack and code of an Error', () => {
    const c = captureCore();
    const err = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    jobLogger(c).jobFailed(err);
    const e = c.events[0]!;
    if (e.type !== 'job.failed') throw new Error('wrong type');
    expect(e.data.error.code).toBe('ECONNRESET');
    expect(e.data.error.stack).toContain('socket hang up');
  });
});

describe('job logger: durationMs', () => {
  it('counts from jobStarted when there was one', () => {
    const c = captureCore();
    const j = jobLogger(c);
    c.clock.ms += 100;
    j.jobReceived();
    c.clock.ms += 400;
    j.jobStarted();
    c.clock.ms += 2500;
    j.jobCompleted();
    expect(c.events.at(-1)).toMatchObject({ type: 'job.completed', data: { durationMs: 2500 } });
  });

  it('counts from jobReceived without jobStarted, and from creation without either', () => {
    const c = captureCore();
    const a = jobLogger(c, 'a');
    c.clock.ms += 100;
    a.jobReceived();
    c.clock.ms += 700;
    a.jobFailed(new Error('boom'));
    expect(c.events.at(-1)).toMatchObject({ type: 'job.failed', data: { durationMs: 700 } });

    const b = jobLogger(c, 'b');
    c.clock.ms += 1234;
    b.jobCancelled({ reason: 'user' });
    expect(c.events.at(-1)).toMatchObject({ type: 'job.cancelled', data: { durationMs: 1234, reason: 'user' } });
  });

  it('uses a durationMs the caller gives', () => {
    const c = captureCore();
    const j = jobLogger(c);
    j.jobStarted();
    c.clock.ms += 5000;
    j.jobCompleted({ durationMs: 42 });
    expect(c.events.at(-1)).toMatchObject({ data: { durationMs: 42 } });
  });

  it('computes queueWaitMs from enqueuedAt', () => {
    const c = captureCore();
    jobLogger(c).jobReceived({ enqueuedAt: c.clock.ms - 750 });
    expect(c.events[0]).toMatchObject({ data: { queueWaitMs: 750 } });
  });
});

describe('job logger: trace context', () => {
  it('adopts the traceparent: same trace, parent span, new span', () => {
    const c = captureCore();
    const j = jobLogger(c, 'job-1', { traceparent: PARENT, attempt: 2, queue: 'images', name: 'txt2img', sessionId: 's-1' });
    j.jobReceived();
    expect(j.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(j.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(j.spanId).not.toBe('00f067aa0ba902b7');
    expect(j.traceparent).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${j.spanId}-01`);
    expect(c.events[0]!.trace).toEqual({ traceId: j.traceId, spanId: j.spanId, parentSpanId: '00f067aa0ba902b7', sampled: true });
    expect(c.events[0]!.job).toEqual({ id: 'job-1', attempt: 2, queue: 'images', name: 'txt2img', sessionId: 's-1' });
  });

  it('gives each attempt its own trace without a traceparent', () => {
    const c = captureCore();
    const a = jobLogger(c, 'job-1');
    const b = jobLogger(c, 'job-1', { attempt: 2 });
    expect(a.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(a.traceId).not.toBe(b.traceId);
    a.jobStarted();
    expect(c.events[0]!.trace).toEqual({ traceId: a.traceId, spanId: a.spanId });
  });

  it('starts a new trace for a malformed traceparent and reports it', () => {
    const c = captureCore();
    const j = jobLogger(c, 'job-1', { traceparent: 'garbage' });
    expect(j.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(c.core.invalidCalls).toBe(1);
  });
});

describe('job logger: pino lines', () => {
  it('writes one line per call with trace, job and identity fields', () => {
    const c = captureCore();
    const j = jobLogger(c, 'job-7', { attempt: 3 });
    j.jobCompleted({ outputCount: 2, message: 'done' });
    expect(c.lines).toHaveLength(1);
    expect(c.lines[0]).toMatchObject({
      level: 30,
      msg: 'done',
      trace_id: j.traceId,
      span_id: j.spanId,
      job_id: 'job-7',
      attempt: 3,
      event_type: 'job.completed',
      event_id: c.events[0]!.id,
      machine_id: 'm-1',
      worker_id: 'w-1',
      service_type: 'comfyui',
      connector_id: 'c-1',
      data: { outputCount: 2 },
    });
  });

  it('writes no lines when switched off, and respects the level', () => {
    const off = captureCore({ stdout: false });
    jobLogger(off).jobStarted();
    expect(off.lines).toHaveLength(0);
    expect(off.events).toHaveLength(1);

    const warnOnly = captureCore({ level: 'warn' });
    const j = jobLogger(warnOnly);
    j.info('quiet');
    j.warn('loud', { n: 1 });
    expect(warnOnly.lines.map((l) => l.msg)).toEqual(['loud']);
    expect(warnOnly.events).toHaveLength(2);
  });
});

describe('job logger: bad arguments never throw', () => {
  it('drops progress that is not a number, counts and reports it', () => {
    const c = captureCore();
    const j = jobLogger(c);
    expect(() => j.jobProgress('abc' as unknown as number)).not.toThrow();
    expect(c.events).toHaveLength(0);
    expect(c.core.invalidCalls).toBe(1);
    expect(c.lines[0]).toMatchObject({ level: 40, event_type: 'jobscope.invalid_call', call: 'jobProgress', job_id: 'job-1' });
    expect(String(c.lines[0]!.dropped)).toContain('progress');
  });

  it('sanitizes bad optional values and still sends the event', () => {
    const c = captureCore();
    const j = jobLogger(c);
    const bad = <T>(v: unknown) => v as T;
    expect(() => {
      j.jobProgress(150, { step: bad(-1), stage: 'x'.repeat(500) });
      j.jobCompleted(bad('not an object'));
      j.jobFailed(bad(undefined), { durationMs: NaN, attrs: bad({ nested: { a: 1 }, ok: 'yes', big: Infinity }) });
      j.info(bad(12345), bad([1, 2]));
      j.recordUsage(bad({ inputTokens: -5, model: 'gpt', bogus: 1 }));
      j.jobRetrying({ nextAttempt: 1, delayMs: bad('soon') });
    }).not.toThrow();
    expect(c.events.map((e) => e.type)).toEqual(['job.progress', 'job.completed', 'job.failed', 'log', 'job.retrying']);
    expect(c.events[0]).toMatchObject({ data: { progress: 100, stage: 'x'.repeat(128) } });
    expect(c.events[2]).toMatchObject({ attrs: { ok: 'yes' }, data: { error: { type: 'Error', category: 'unknown' } } });
    expect(c.events[3]).toMatchObject({ message: '12345' });
    expect(c.events[4]).toMatchObject({ data: { nextAttempt: 2 }, ai: { model: 'gpt' } });
    expect(c.core.invalidCalls).toBe(6);
  });

  it('an event that would be over what readers take is sent without its attributes, then with its message cut; reported', () => {
    const c = captureCore();
    const j = jobLogger(c);
    // Within the argument bounds (64 keys of 4096 characters), but 6 bytes each once escaped: 1.6 MB.
    const huge = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, '\u0001'.repeat(4096)]));
    j.info('big attrs', huge);
    j.warn('\u0002'.repeat(8192), huge);
    expect(c.events.map((e) => [e.message?.length, e.attrs])).toEqual([
      ['big attrs'.length, undefined],
      [8192, undefined], // 49 KB escaped: fits once the attributes are gone
    ]);
    for (const e of c.events) expect(Buffer.byteLength(JSON.stringify(e))).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
    expect(c.core.invalidCalls).toBe(2);
    expect(c.lines.find((l) => l.event_type === 'jobscope.invalid_call')).toMatchObject({ call: 'log', issues: [expect.stringContaining('attributes left out')] });
  });

  it('attributes: an empty key, __proto__ and inherited properties are left out (empty and __proto__ reported)', () => {
    const c = captureCore();
    const j = jobLogger(c);
    j.info('a', { '': 'v', ok: 1 });
    j.info('b', JSON.parse('{"__proto__":"p","ok":2}') as never);
    const inherited = Object.assign(Object.create({ fromProto: 'x' }) as Record<string, unknown>, { own: 3 });
    j.info('c', inherited as never);
    expect(c.events.map((e) => e.attrs)).toEqual([{ ok: 1 }, { ok: 2 }, { own: 3 }]);
    expect(c.core.invalidCalls).toBe(2);
    expect(c.lines.filter((l) => l.event_type !== 'jobscope.invalid_call').map((l) => l.fromProto)).toEqual([undefined, undefined, undefined]);
  });

  it('staged events with a value over the largest safe integer go the checked way: valid, reported', () => {
    const c = captureCore();
    const j = jobLogger(c) as ReturnType<typeof jobLogger> & StagedLifecycle;
    const now = c.clock.ms;
    j.stagedStart(now, now - 1, 1e16, undefined);
    j.stagedCompleted(now + 5, 1e16, undefined, undefined, undefined);
    expect(c.events.map((e) => e.type)).toEqual(['job.received', 'job.started', 'job.completed']);
    expect(c.core.invalidCalls).toBeGreaterThanOrEqual(2);
  });

  it('survives a bad job id and options', () => {
    const c = captureCore();
    const j = createJobLogger(c.core, undefined as unknown as string, 'x' as unknown as JobContextOptions, (k) => k);
    j.jobStarted();
    const k = createJobLogger(c.core, 'a\nb', { attempt: 0 }, (key) => key);
    k.jobStarted();
    expect(c.events.map((e) => [e.job?.id, e.job?.attempt])).toEqual([
      ['unknown', 1],
      ['a?b', 1],
    ]);
    expect(c.core.invalidCalls).toBe(2);
  });
});

describe('job logger: events', () => {
  it('stamps producer and seq +1 per event across jobs, routed by job id', () => {
    const c = captureCore();
    const a = jobLogger(c, 'a');
    const b = jobLogger(c, 'b');
    a.jobReceived();
    b.jobReceived();
    a.jobProgress(10, { step: 1, totalSteps: 10 });
    b.debug('hi');
    expect(c.events.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(new Set(c.events.map((e) => e.producer))).toEqual(new Set(['c-1-producer']));
    expect(c.streams).toEqual(['{p}:events:a', '{p}:events:b', '{p}:events:a', '{p}:events:b']);
  });

  it('adds up recorded usage and reports the totals so far on the next events', () => {
    const c = captureCore();
    const j = jobLogger(c);
    j.recordUsage({ model: 'gpt-4o', provider: 'openai', inputTokens: 100, outputTokens: 20, costUsd: 0.01 });
    j.recordUsage({ inputTokens: 50, outputTokens: 5, costUsd: 0.005 });
    j.info('not a lifecycle event');
    j.jobCompleted({ ai: { outputTokens: 1 } });
    // A log line carries the totals too (the runtime ends a run BullMQ put back with one).
    expect(c.events[0]!.ai).toMatchObject({ model: 'gpt-4o', inputTokens: 150, outputTokens: 25 });
    expect(c.events[1]!.ai).toEqual({ model: 'gpt-4o', provider: 'openai', inputTokens: 150, outputTokens: 26, costUsd: 0.015 });
  });
});
