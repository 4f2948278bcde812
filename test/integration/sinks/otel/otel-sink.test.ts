import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTraceparent, type JobscopeEvent } from '../../../../src/events/index.js';
import { enqueueTraceparent } from '../../../../src/jobs/producer.js';
import { createOtelSink, type OtelSink, type OtelSinkOptions } from '../../../../src/sinks/otel/index.js';
import { makeEvent } from '../../../helpers/events.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../../helpers/otlp-receiver.js';
import { cleanupPrefix, testPrefix, testRedis, waitFor } from '../../../helpers/redis.js';

const TRACE = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', parentSpanId: '00f067aa0ba902b7' };
const signal = new AbortController().signal;

describe('otel sink against a local OTLP/HTTP receiver', () => {
  let redis: Redis;
  let prefix: string;
  let receiver: OtlpReceiver;
  const sinks: OtelSink[] = [];

  const sink = (extra: Partial<OtelSinkOptions> = {}) => {
    const s = createOtelSink({ redis, prefix, tracesUrl: receiver.tracesUrl, environment: 'test', timeoutMs: 2_000, ...extra });
    sinks.push(s);
    return s;
  };

  /** received → started → progress → terminal, 1 s apart-ish, on job `jobId`. */
  function attempt(jobId: string, t0: number, terminal: Partial<JobscopeEvent> & Pick<JobscopeEvent, 'type'>) {
    const job = { id: jobId, attempt: 1, queue: 'images', name: 'render' };
    return [
      makeEvent({ type: 'job.received', time: t0, job, trace: TRACE, data: { enqueuedAt: t0 - 500 } }),
      makeEvent({ type: 'job.started', time: t0 + 200, job, trace: TRACE, data: {} }),
      makeEvent({ type: 'job.progress', time: t0 + 400, job, trace: TRACE, data: { progress: 40, stage: 'sampling', step: 8, totalSteps: 20 } }),
      makeEvent({ job, trace: TRACE, time: t0 + 1000, ...terminal }),
    ];
  }

  beforeEach(async () => {
    redis = testRedis();
    prefix = testPrefix('otel');
    receiver = await startOtlpReceiver();
  });

  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.close();
    await receiver.close();
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
  });

  it('exports one trace per attempt: the attempt span under the producer span, with queue-wait and processing children', async () => {
    const t0 = Date.now() - 10_000;
    const events = attempt('job-tree', t0, {
      type: 'job.completed',
      data: { durationMs: 800, outputCount: 2, outputSize: 1234 },
      ai: { model: 'sdxl', provider: 'comfyui', inputTokens: 12, outputTokens: 0 },
    });
    // Two pipeline processes: one sees the early events, the other the terminal one.
    expect(await sink().write(events.slice(0, 3), signal)).toEqual({ status: 'ok' });
    expect(receiver.spans).toHaveLength(0);
    expect(await sink().write(events.slice(3), signal)).toEqual({ status: 'ok' });

    const byName = Object.fromEntries(receiver.spans.map((s) => [s.name, s]));
    const root = byName['process images']!;
    expect(Object.keys(byName).sort()).toEqual(['process images', 'processing', 'queue-wait']);
    for (const s of receiver.spans) expect(s.traceId).toBe(TRACE.traceId);
    expect(root.spanId).toBe(TRACE.spanId);
    expect(root.parentSpanId).toBe(TRACE.parentSpanId);
    expect(root.kind).toBe(5); // CONSUMER in OTLP's enum (SPAN_KIND_CONSUMER)
    expect(byName['queue-wait']!.parentSpanId).toBe(TRACE.spanId);
    expect(byName['processing']!.parentSpanId).toBe(TRACE.spanId);

    expect([root.startMs, root.endMs]).toEqual([t0, t0 + 1000]);
    expect([byName['queue-wait']!.startMs, byName['queue-wait']!.endMs]).toEqual([t0 - 500, t0 + 200]);
    expect([byName['processing']!.startMs, byName['processing']!.endMs]).toEqual([t0 + 200, t0 + 1000]);
    expect(root.status.code).toBe(1); // OK

    expect(root.events).toEqual([
      {
        name: 'progress',
        timeMs: t0 + 400,
        attributes: { 'jobscope.progress': 40, 'jobscope.progress.stage': 'sampling', 'jobscope.progress.step': 8, 'jobscope.progress.total_steps': 20 },
      },
    ]);
    expect(root.attributes).toMatchObject({
      'jobscope.job.id': 'job-tree',
      'jobscope.job.attempt': 1,
      'jobscope.machine.id': 'machine-1',
      'jobscope.worker.id': 'worker-1',
      'jobscope.service.type': 'comfyui',
      'jobscope.connector.id': 'comfyui-local',
      'jobscope.event.id': events[3]!.id,
      'jobscope.job.queue_wait_ms': 700,
      'jobscope.job.output_count': 2,
      'messaging.system': 'bullmq',
      'messaging.destination.name': 'images',
      'messaging.message.id': 'job-tree',
      'messaging.operation.type': 'process',
    });
    // The usage is on the processing span only: counted once per attempt by tools that sum GenAI spans.
    expect(byName['processing']!.attributes).toMatchObject({ 'gen_ai.request.model': 'sdxl', 'gen_ai.provider.name': 'comfyui', 'gen_ai.usage.input_tokens': 12 });
    expect(Object.keys(root.attributes).filter((k) => k.startsWith('gen_ai.') || k === 'jobscope.ai.cost_usd')).toEqual([]);
    expect(root.resource).toMatchObject({
      'service.name': 'jobscope-comfyui',
      'service.instance.id': 'machine-1/worker-1/comfyui/comfyui-local',
      'deployment.environment.name': 'test',
    });
  });

  it('exports the enqueue span of a trace the producer started, once, as the root of the first attempt', async () => {
    const t0 = Date.now() - 10_000;
    const traceparent = enqueueTraceparent();
    const parsed = parseTraceparent(traceparent)!;
    const own = { traceId: parsed.traceId, spanId: 'b7ad6b7169203331', parentSpanId: parsed.spanId };
    const job = (attempt: number) => ({ id: 'job-send', attempt, queue: 'images', name: 'render' });
    const run = (attempt: number, at: number, spanId: string) => [
      makeEvent({ type: 'job.received', time: at, job: job(attempt), trace: { ...own, spanId }, data: { enqueuedAt: t0 - 500 } }),
      makeEvent({ type: 'job.failed', time: at + 100, job: job(attempt), trace: { ...own, spanId }, data: { durationMs: 90, willRetry: attempt === 1, error: { type: 'Error', message: 'x', category: 'unknown' } } }),
    ];
    expect(await sink().write([...run(1, t0, 'b7ad6b7169203331'), ...run(2, t0 + 2000, 'c7ad6b7169203332')], signal)).toEqual({ status: 'ok' });
    const sends = receiver.spans.filter((s) => s.name === 'send images');
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ traceId: parsed.traceId, spanId: parsed.spanId, kind: 4, startMs: t0 - 500, endMs: t0 - 500 }); // PRODUCER
    expect(sends[0]!.parentSpanId).toBeFalsy();
    expect(sends[0]!.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'messaging.destination.name': 'images', 'jobscope.job.id': 'job-send' });
    const attempts = receiver.spans.filter((s) => s.name === 'process images');
    expect(attempts.map((s) => s.parentSpanId)).toEqual([parsed.spanId, parsed.spanId]);

    // A caller's own span (any other parent) is the caller's to export.
    receiver.spans.length = 0;
    expect(await sink().write(attempt('job-caller', t0, { type: 'job.completed', data: { durationMs: 800 } }), signal)).toEqual({ status: 'ok' });
    expect(receiver.spans.map((s) => s.name).sort()).toEqual(['process images', 'processing', 'queue-wait']);
  });

  it('exports the enqueue span with the first receive, so a first attempt that never ends (its worker died) leaves it in the trace', async () => {
    const t0 = Date.now() - 10_000;
    const parsed = parseTraceparent(enqueueTraceparent())!;
    const trace = (spanId: string) => ({ traceId: parsed.traceId, spanId, parentSpanId: parsed.spanId });
    const job = (attempt: number) => ({ id: 'job-stalled', attempt, queue: 'images', name: 'render' });
    const s = sink({ timeoutMs: 500 });
    // Attempt 1 is received and started, then its worker is killed: no terminal event ever comes.
    const first = [
      makeEvent({ type: 'job.received', time: t0, job: job(1), trace: trace('b7ad6b7169203331'), data: { enqueuedAt: t0 - 500 } }),
      makeEvent({ type: 'job.started', time: t0 + 10, job: job(1), trace: trace('b7ad6b7169203331'), data: {} }),
    ];
    // The export fails first: the receive stays unconfirmed (its span is not lost), the start is confirmed.
    receiver.failNext(1, { status: 503 });
    expect(await s.write(first, signal)).toMatchObject({ status: 'retry', confirmedIds: [first[1]!.id] });
    expect(await s.write(first.slice(0, 1), signal)).toEqual({ status: 'ok' });
    // Attempt 2, on another worker, completes.
    const second = [
      makeEvent({ type: 'job.received', time: t0 + 40_000, job: job(2), trace: trace('c7ad6b7169203332'), data: { enqueuedAt: t0 - 500 } }),
      makeEvent({ type: 'job.completed', time: t0 + 40_100, job: job(2), trace: trace('c7ad6b7169203332'), data: { durationMs: 90 } }),
    ];
    expect(await s.write(second, signal)).toEqual({ status: 'ok' });
    const sends = receiver.spans.filter((x) => x.name === 'send images');
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ traceId: parsed.traceId, spanId: parsed.spanId, kind: 4, startMs: t0 - 500 });
    expect(receiver.spans.find((x) => x.name === 'process images')).toMatchObject({ parentSpanId: parsed.spanId, attributes: { 'jobscope.job.attempt': 2 } });

    // Sampled out by the ratio: no enqueue span with the receive; a failed first attempt (kept
    // whatever the ratio) brings it, one that completes does not.
    receiver.spans.length = 0;
    const out = sink({ sampleRatio: 0 });
    const traceB = parseTraceparent(enqueueTraceparent())!;
    const tb = { traceId: traceB.traceId, spanId: 'd7ad6b7169203333', parentSpanId: traceB.spanId };
    const jobB = { id: 'job-sampled', attempt: 1, queue: 'images', name: 'render' };
    expect(await out.write([makeEvent({ type: 'job.received', time: t0, job: jobB, trace: tb, data: { enqueuedAt: t0 - 500 } })], signal)).toEqual({ status: 'ok' });
    expect(receiver.spans).toHaveLength(0);
    const error = { type: 'Error', category: 'unknown' as const, message: 'boom' };
    expect(await out.write([makeEvent({ type: 'job.failed', time: t0 + 100, job: jobB, trace: tb, data: { durationMs: 90, error, willRetry: false } })], signal)).toEqual({ status: 'ok' });
    expect(receiver.spans.filter((x) => x.name === 'send images').map((x) => x.traceId)).toEqual([traceB.traceId]);
  });

  it('a trace sampled out whose first attempt never ends: the first failure of a later attempt brings the enqueue span, once', async () => {
    const out = sink({ sampleRatio: 0 });
    const t0 = Date.now() - 60_000;
    const parsed = parseTraceparent(enqueueTraceparent())!;
    const trace = (spanId: string) => ({ traceId: parsed.traceId, spanId, parentSpanId: parsed.spanId });
    const job = (attempt: number) => ({ id: 'job-died-then-failed', attempt, queue: 'images', name: 'render' });
    const error = { type: 'Error', category: 'network' as const, message: 'ECONNRESET' };
    // Attempt 1: received (the runtime puts the enqueue time on a first attempt only), then its worker dies.
    await out.write([makeEvent({ type: 'job.received', time: t0, job: job(1), trace: trace('a1a1a1a1a1a1a1a1'), data: { enqueuedAt: t0 - 700, queueWaitMs: 700 } })], signal);
    // Attempts 2 and 3 (after the stall) fail; their receives carry no enqueue time.
    for (const [attempt, sp] of [[2, 'a2a2a2a2a2a2a2a2'], [3, 'a3a3a3a3a3a3a3a3']] as const) {
      const at = t0 + attempt * 10_000;
      const events = [
        makeEvent({ type: 'job.received', time: at, job: job(attempt), trace: trace(sp), data: {} }),
        makeEvent({ type: 'job.failed', time: at + 100, job: job(attempt), trace: trace(sp), data: { durationMs: 90, error, willRetry: attempt < 3 } }),
      ];
      expect(await out.write(events, signal)).toEqual({ status: 'ok' });
      // Sent with attempt 2's failure, not again with attempt 3's.
      expect(receiver.spans.filter((x) => x.name === 'send images')).toHaveLength(1);
    }
    // The first attempt's worker comes back and reports its failure late: no second enqueue span either.
    await out.write([makeEvent({ type: 'job.failed', time: t0 + 5000, job: job(1), trace: trace('a1a1a1a1a1a1a1a1'), data: { durationMs: 5000, error, willRetry: true } })], signal);
    const sends = receiver.spans.filter((x) => x.name === 'send images');
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ traceId: parsed.traceId, spanId: parsed.spanId, startMs: t0 - 700 });
    const attempts = receiver.spans.filter((x) => x.name === 'process images');
    expect(attempts.map((x) => x.attributes['jobscope.job.attempt']).sort()).toEqual([1, 2, 3]);
    for (const a of attempts) expect(a.parentSpanId).toBe(parsed.spanId);
  });

  it("the enqueue span still comes with a later attempt's failure when the first attempt's worker had a clock ahead", async () => {
    const out = sink({ sampleRatio: 0 });
    const t0 = Date.now() - 60_000;
    const parsed = parseTraceparent(enqueueTraceparent())!;
    const trace = (spanId: string) => ({ traceId: parsed.traceId, spanId, parentSpanId: parsed.spanId });
    const job = (attempt: number) => ({ id: 'job-clock-ahead', attempt, queue: 'images' });
    // The first worker's clock is 40 s ahead: its receive reads later than the second attempt's failure.
    await out.write([makeEvent({ type: 'job.received', time: t0 + 40_000, job: job(1), trace: trace('b1b1b1b1b1b1b1b1'), data: { enqueuedAt: t0 - 300 } })], signal);
    const error = { type: 'Error', category: 'network' as const, message: 'ECONNRESET' };
    await out.write([makeEvent({ type: 'job.failed', time: t0 + 10_100, job: job(2), trace: trace('b2b2b2b2b2b2b2b2'), data: { durationMs: 90, error, willRetry: false } })], signal);
    expect(receiver.spans.filter((x) => x.name === 'send images').map((x) => x.startMs)).toEqual([t0 - 300]);
  });

  it("a delayed job's queue-wait is the wait the runtime measured (its delay excluded), not the time since it was enqueued", async () => {
    const t0 = Date.now() - 10_000;
    const job = { id: 'job-delayed', attempt: 1, queue: 'images', name: 'render' };
    const events = [
      // Enqueued an hour before, delayed by an hour: it waited 300 ms in the queue.
      makeEvent({ type: 'job.received', time: t0, job, trace: TRACE, data: { enqueuedAt: t0 - 3_600_000, queueWaitMs: 300 } }),
      makeEvent({ type: 'job.started', time: t0, job, trace: TRACE, data: { queueWaitMs: 300 } }),
      makeEvent({ type: 'job.completed', time: t0 + 1000, job, trace: TRACE, data: { durationMs: 1000 } }),
    ];
    expect(await sink().write(events, signal)).toEqual({ status: 'ok' });
    const byName = Object.fromEntries(receiver.spans.map((s) => [s.name, s]));
    expect([byName['queue-wait']!.startMs, byName['queue-wait']!.endMs]).toEqual([t0 - 300, t0]);
    expect(byName['process images']!.attributes['jobscope.job.queue_wait_ms']).toBe(300);
  });

  it("a retry's queue-wait starts at its receive time: its wait since the first enqueue covers the earlier attempts", async () => {
    const t0 = Date.now() - 10_000;
    const job = { id: 'job-retry-wait', attempt: 2, queue: 'images', name: 'render' };
    const events = [
      makeEvent({ type: 'job.received', time: t0, job, trace: TRACE, data: { enqueuedAt: t0 - 5000, queueWaitMs: 5000 } }),
      makeEvent({ type: 'job.started', time: t0 + 100, job, trace: TRACE, data: {} }),
      makeEvent({ type: 'job.completed', time: t0 + 600, job, trace: TRACE, data: { durationMs: 500 } }),
    ];
    expect(await sink().write(events, signal)).toEqual({ status: 'ok' });
    const wait = receiver.spans.find((s) => s.name === 'queue-wait')!;
    expect([wait.startMs, wait.endMs]).toEqual([t0, t0 + 100]);
  });

  it('marks a failed attempt as an error with an exception event, and keeps it even when sampling drops the rest', async () => {
    const s = sink({ sampleRatio: 0 });
    const t0 = Date.now() - 5_000;
    const stack = 'TimeoutError: render timed out after 30000 ms\n    at render (/app/connectors/comfyui.ts:42:11)';
    const error = { type: 'TimeoutError', category: 'timeout' as const, message: 'render timed out after 30000 ms', stack };
    const ok = attempt('job-sampled-out', t0, { type: 'job.completed', data: { durationMs: 800 } });
    const failed = attempt('job-failed', t0, { type: 'job.failed', data: { durationMs: 800, error, willRetry: false } });

    expect(await s.write([...ok, ...failed], signal)).toEqual({ status: 'ok' });
    expect(new Set(receiver.spans.map((x) => x.attributes['jobscope.job.id']))).toEqual(new Set(['job-failed']));
    expect(s.stats().attemptsSampledOut).toBe(1);
    const root = receiver.spans.find((x) => x.spanId === TRACE.spanId)!;
    expect(root.status).toEqual({ code: 2, message: 'TimeoutError: render timed out after 30000 ms' });
    expect(root.attributes).toMatchObject({ 'error.type': 'TimeoutError', 'jobscope.error.category': 'timeout' });
    expect(root.events.find((e) => e.name === 'exception')).toEqual({
      name: 'exception',
      timeMs: t0 + 1000,
      attributes: { 'exception.type': 'TimeoutError', 'exception.message': 'render timed out after 30000 ms', 'exception.stacktrace': stack },
    });
  });

  it('returns retry on 429 and 503, confirms the non-terminal events, and loses nothing once the receiver recovers', async () => {
    const s = sink({ timeoutMs: 500 });
    const events = attempt('job-outage', Date.now() - 3_000, { type: 'job.completed', data: { durationMs: 800 } });
    receiver.failNext(1, { status: 429, retryAfterSec: 30 });
    const first = await s.write(events, signal);
    expect(first).toMatchObject({ status: 'retry', confirmedIds: events.slice(0, 3).map((e) => e.id) });

    receiver.failNext(1, { status: 503 });
    const second = await s.write(events.slice(3), signal);
    expect(second.status).toBe('retry');

    receiver.failNext(1, { delayMs: 1_500 }); // answers after the export timeout
    expect((await s.write(events.slice(3), signal)).status).toBe('retry');

    expect(await s.write(events.slice(3), signal)).toEqual({ status: 'ok' });
    expect(receiver.spans.map((x) => x.name).sort()).toEqual(['process images', 'processing', 'queue-wait']);
    expect(receiver.spans.find((x) => x.name === 'process images')!.events).toHaveLength(1);
  });

  it('re-exports identical span ids and times when a terminal event is delivered again', async () => {
    const events = attempt('job-redelivered', Date.now() - 3_000, { type: 'job.completed', data: { durationMs: 800 } });
    await sink().write(events, signal);
    await sink().write(events.slice(3), signal); // another process gets the redelivery
    await waitFor(() => receiver.spans.length === 6, { what: 'two exports' });
    const key = (x: { spanId: string; parentSpanId?: string; startMs: number; endMs: number }) =>
      `${x.spanId}/${x.parentSpanId}/${x.startMs}/${x.endMs}`;
    const first = receiver.spans.slice(0, 3).map(key).sort();
    const again = receiver.spans.slice(3).map(key).sort();
    expect(again).toEqual(first);
    expect(new Set(receiver.spans.map((x) => x.spanId)).size).toBe(3);
  });

  it('a job re-added under an id that ran before (attempt 1 again) gets spans of its own run, in separate batches or in one', async () => {
    const t0 = Date.now() - 60_000;
    const job = { id: 'job-nightly', attempt: 1, queue: 'images' };
    const run = (spanId: string, t: number, progress: number) => {
      const trace = { traceId: TRACE.traceId, spanId };
      return [
        makeEvent({ type: 'job.received', time: t, job, trace, data: { enqueuedAt: t - 100, queueWaitMs: 100 } }),
        makeEvent({ type: 'job.started', time: t + 10, job, trace, data: {} }),
        makeEvent({ type: 'job.progress', time: t + 20, job, trace, data: { progress } }),
        makeEvent({ type: 'job.completed', time: t + 50, job, trace, data: { durationMs: 40 } }),
      ];
    };
    const first = run('1111111111111111', t0, 10);
    const second = run('2222222222222222', t0 + 20_000, 20);
    const third = run('3333333333333333', t0 + 40_000, 30);
    await sink().write(first, signal);
    await sink().write(second, signal);
    // A pipeline catching up: the third run's events in the batch of the second's redelivered end.
    await sink().write([second[3]!, ...third], signal);
    const roots = receiver.spans.filter((x) => x.name === 'process images');
    const bySpan = (id: string) => roots.filter((x) => x.spanId === id);
    expect(bySpan('1111111111111111').map((x) => [x.startMs, x.endMs])).toEqual([[t0, t0 + 50]]);
    for (const [id, t, p] of [['2222222222222222', t0 + 20_000, 20], ['3333333333333333', t0 + 40_000, 30]] as const) {
      for (const root of bySpan(id)) {
        expect([root.startMs, root.endMs]).toEqual([t, t + 50]);
        expect(root.events.map((e) => e.attributes['jobscope.progress'])).toEqual([p]);
      }
    }
    expect(bySpan('2222222222222222')).toHaveLength(2);
    expect(bySpan('3333333333333333')).toHaveLength(1);
    const waits = receiver.spans.filter((x) => x.name === 'queue-wait' && x.parentSpanId === '3333333333333333');
    expect(waits.map((x) => [x.startMs, x.endMs])).toEqual([[t0 + 40_000 + 10 - 100, t0 + 40_000 + 10]]);
  });

  it('a job id re-added run after run keeps one run in its attempt hash; a run after one that hit the progress cap gets its own points', async () => {
    const s = sink({ maxProgressPoints: 3 });
    const t0 = Date.now() - 600_000;
    const job = { id: 'job-every-minute', attempt: 1, queue: 'images' };
    const hash = `{${prefix}}:otel:job-every-minute:1`;
    for (let run = 0; run < 5; run++) {
      const trace = { traceId: TRACE.traceId, spanId: `${run + 1}`.padStart(16, 'c') };
      const t = t0 + run * 60_000;
      const steps = run === 0 ? 6 : 2;
      await s.write(
        [
          makeEvent({ type: 'job.received', time: t, job, trace, data: {} }),
          makeEvent({ type: 'job.started', time: t + 1, job, trace, data: {} }),
          ...Array.from({ length: steps }, (_, i) => makeEvent({ type: 'job.progress', time: t + 2 + i, job, trace, data: { progress: (i + 1) * 10 } })),
        ],
        signal,
      );
      // One run's fields: its receive, its start, its progress points (at most the cap), pn, pd, rt.
      expect(await redis.hlen(hash)).toBeLessThanOrEqual(2 + 3 + 3);
      await s.write([makeEvent({ type: 'job.completed', time: t + 50, job, trace, data: { durationMs: 49 } })], signal);
    }
    const roots = receiver.spans.filter((x) => x.name === 'process images');
    expect(roots).toHaveLength(5);
    expect(roots[0]!.attributes['jobscope.progress.dropped']).toBe(3);
    for (const root of roots.slice(1)) {
      expect(root.events.map((e) => e.attributes['jobscope.progress'])).toEqual([10, 20]);
      expect(root.attributes['jobscope.progress.dropped']).toBeUndefined();
    }
  });

  it("an export that failed on a batch holding a run's end and the next run's receive: the end, delivered again, never takes the next run's times", async () => {
    const s = sink({ timeoutMs: 500 });
    const t0 = Date.now() - 60_000;
    const job = { id: 'job-quick-again', attempt: 1, queue: 'images' };
    const a = { traceId: TRACE.traceId, spanId: 'aaaaaaaaaaaaaaa1' };
    const b = { traceId: TRACE.traceId, spanId: 'bbbbbbbbbbbbbbb2' };
    await s.write([makeEvent({ type: 'job.received', time: t0, job, trace: a, data: {} }), makeEvent({ type: 'job.started', time: t0 + 10, job, trace: a, data: {} })], signal);
    const aEnd = makeEvent({ type: 'job.completed', time: t0 + 100, job, trace: a, data: { durationMs: 90 } });
    receiver.failNext(1, { status: 503 });
    const batch = [aEnd, makeEvent({ type: 'job.received', time: t0 + 200, job, trace: b, data: {} }), makeEvent({ type: 'job.started', time: t0 + 210, job, trace: b, data: {} })];
    expect((await s.write(batch, signal)).status).toBe('retry');
    expect(await s.write([aEnd], signal)).toEqual({ status: 'ok' });
    await s.write([makeEvent({ type: 'job.completed', time: t0 + 300, job, trace: b, data: { durationMs: 90 } })], signal);
    const root = (id: string) => receiver.spans.find((x) => x.name === 'process images' && x.spanId === id)!;
    // A's own receive went with the next run's: its span starts where its duration says.
    expect([root(a.spanId).startMs, root(a.spanId).endMs]).toEqual([t0 + 10, t0 + 100]);
    expect([root(b.spanId).startMs, root(b.spanId).endMs]).toEqual([t0 + 200, t0 + 300]);
    const processing = receiver.spans.find((x) => x.name === 'processing' && x.parentSpanId === b.spanId)!;
    expect(processing.startMs).toBe(t0 + 210);
  });

  it("an earlier run's end arriving after the next run's receive leaves the next run's state its full TTL", async () => {
    const s = sink({ attemptTtlSec: 86_400, doneTtlSec: 3_600 });
    const t0 = Date.now() - 60_000;
    const job = { id: 'job-late-end', attempt: 1, queue: 'images' };
    const a = { traceId: TRACE.traceId, spanId: 'aaaaaaaaaaaaaaa3' };
    const b = { traceId: TRACE.traceId, spanId: 'bbbbbbbbbbbbbbb4' };
    await s.write([makeEvent({ type: 'job.received', time: t0, job, trace: a, data: {} })], signal);
    await s.write([makeEvent({ type: 'job.received', time: t0 + 200, job, trace: b, data: {} })], signal);
    await s.write([makeEvent({ type: 'job.completed', time: t0 + 100, job, trace: a, data: { durationMs: 90 } })], signal);
    const hash = `{${prefix}}:otel:job-late-end:1`;
    expect(await redis.ttl(hash)).toBeGreaterThan(3_600);
    await s.write([makeEvent({ type: 'job.completed', time: t0 + 300, job, trace: b, data: { durationMs: 90 } })], signal);
    expect(await redis.ttl(hash)).toBeLessThanOrEqual(3_600);
    const root = receiver.spans.find((x) => x.name === 'process images' && x.spanId === b.spanId)!;
    expect([root.startMs, root.endMs]).toEqual([t0 + 200, t0 + 300]);
  });

  it('caps progress span events per attempt, counts the rest, and ignores redelivered progress', async () => {
    const s = sink({ maxProgressPoints: 2 });
    const t0 = Date.now() - 5_000;
    const job = { id: 'job-chatty', attempt: 1 };
    const progress = [10, 20, 30, 40].map((p, i) =>
      makeEvent({ type: 'job.progress', time: t0 + 100 * (i + 1), job, trace: TRACE, data: { progress: p } }),
    );
    await s.write([progress[0]!, progress[0]!, ...progress.slice(1)], signal);
    await s.write([makeEvent({ type: 'job.completed', time: t0 + 1000, job, trace: TRACE, data: { durationMs: 900 } })], signal);
    const root = receiver.spans.find((x) => x.spanId === TRACE.spanId)!;
    expect(root.events.map((e) => e.attributes['jobscope.progress'])).toEqual([10, 20]);
    expect(root.attributes['jobscope.progress.dropped']).toBe(2);
  });

  it('reports health from the endpoint and refuses writes after close', async () => {
    const s = sink();
    expect((await s.health()).ok).toBe(true);
    await receiver.close();
    expect(await s.health()).toMatchObject({ ok: false });
    await s.close();
    await s.close();
    await expect(s.write([], signal)).rejects.toThrow(/closed/);
    receiver = await startOtlpReceiver(); // for afterEach
  });
});
