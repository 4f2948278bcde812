import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventOf, JobscopeEvent } from '../../../../src/events/index.js';
import { createSentrySink, type SentrySink, type SentrySinkOptions } from '../../../../src/sinks/sentry/index.js';
import { makeEvent } from '../../../helpers/events.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../../helpers/redis.js';
import { startSentryEndpoint, type SentryEndpoint } from '../../../helpers/sentry-endpoint.js';

const TRACE = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', parentSpanId: '00f067aa0ba902b7' };
const STACK = [
  'TimeoutError: render 4f2a9c1e timed out after 30000 ms',
  '    at render (/app/connectors/comfyui/render.ts:42:11)',
  '    at async runJob (/app/workers/job-worker.ts:88:5)',
].join('\n');
const signal = new AbortController().signal;

type Failure = EventOf<'job.failed'>;

function failure(message: string, overrides: Partial<Failure> = {}, extra: Partial<Failure['data']> = {}): Failure {
  return makeEvent({
    type: 'job.failed',
    job: { id: 'job-1', attempt: 1 },
    data: { durationMs: 900, error: { type: 'TimeoutError', category: 'timeout', message, stack: STACK }, ...extra },
    ...overrides,
  } as Partial<JobscopeEvent> & Pick<JobscopeEvent, 'type'>) as Failure;
}

describe('sentry sink against a local envelope endpoint', () => {
  let redis: Redis;
  let prefix: string;
  let endpoint: SentryEndpoint;
  const sinks: SentrySink[] = [];
  const sink = (extra: Partial<SentrySinkOptions> = {}) => {
    const s = createSentrySink({ dsn: endpoint.dsn, redis, prefix, environment: 'staging', release: 'abc123', timeoutMs: 2_000, ...extra });
    sinks.push(s);
    return s;
  };

  beforeEach(async () => {
    redis = testRedis();
    prefix = testPrefix('sentry');
    endpoint = await startSentryEndpoint();
  });
  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.close();
    await endpoint.close();
    await cleanupPrefix(redis, prefix);
    redis.disconnect();
  });

  it('turns a failed job into an error event with frames, tags, job and trace context, breadcrumbs and fingerprint', async () => {
    const t0 = Date.now() - 10_000;
    const job = { id: 'job-render-7', attempt: 2, queue: 'images', name: 'render' };
    const early = [
      makeEvent({ type: 'job.received', time: t0, job, trace: TRACE, data: { inputSize: 2048, queueWaitMs: 300 } }),
      makeEvent({ type: 'job.started', time: t0 + 100, job, trace: TRACE, data: { queueWaitMs: 350 } }),
      makeEvent({ type: 'job.progress', time: t0 + 500, job, trace: TRACE, data: { progress: 40, stage: 'sampling' } }),
    ];
    const failed = failure('render 4f2a9c1e timed out after 30000 ms', {
      time: t0 + 1000,
      job,
      trace: TRACE,
      ai: { model: 'sdxl', provider: 'comfyui' },
    }, { willRetry: false });
    // The early events reach one pipeline process, the failure another.
    expect(await sink().write(early, signal)).toEqual({ status: 'ok' });
    expect(endpoint.requestTimes).toHaveLength(0);
    expect(await sink().write([failed], signal)).toEqual({ status: 'ok' });

    expect(endpoint.events).toHaveLength(1);
    const e = endpoint.events[0] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(e.event_id).toBe(failed.id.replace(/-/g, ''));
    expect(e.environment).toBe('staging');
    expect(e.release).toBe('abc123');
    expect(e.level).toBe('error');
    const ex = e.exception.values[0];
    expect(ex.type).toBe('TimeoutError');
    expect(ex.value).toBe('render 4f2a9c1e timed out after 30000 ms');
    // Sentry orders frames oldest call first.
    expect(ex.stacktrace.frames.map((f: Record<string, unknown>) => [f.function, f.lineno, f.colno])).toEqual([
      ['runJob', 88, 5],
      ['render', 42, 11],
    ]);
    expect(ex.stacktrace.frames[1].filename).toBe('/app/connectors/comfyui/render.ts');
    expect(e.tags).toEqual({
      machine_id: 'machine-1',
      worker_id: 'worker-1',
      service_type: 'comfyui',
      connector_id: 'comfyui-local',
      queue: 'images',
      job_name: 'render',
      model: 'sdxl',
      error_type: 'timeout',
      attempt: '2',
      final: 'true',
    });
    expect(e.contexts.job).toMatchObject({
      id: 'job-render-7',
      attempt: 2,
      duration_ms: 900,
      queue_wait_ms: 350,
      input_size: 2048,
      will_retry: false,
      identity: 'machine-1/worker-1/comfyui/comfyui-local',
    });
    expect(e.contexts.trace).toMatchObject({ trace_id: TRACE.traceId, span_id: TRACE.spanId, parent_span_id: TRACE.parentSpanId });
    expect(e.fingerprint).toEqual(['comfyui', 'timeout', 'render <hex> timed out after <n> ms']);
    expect(e.breadcrumbs.map((b: Record<string, unknown>) => b.message)).toEqual([
      'job.received (attempt 2)',
      'job.started (attempt 2)',
      'job.progress (attempt 2)',
    ]);
    expect(e.breadcrumbs[2].data).toEqual({ progress: 40, stage: 'sampling' });
  });

  it('groups failures that differ only in ids and numbers, and keeps different errors apart', async () => {
    const s = sink();
    const a = failure('job 8f3a2b1c9d0e: GPU 3 out of memory while allocating 2048 MiB for "portrait-77.png"', { job: { id: 'a', attempt: 1 } });
    const b = failure('job 1b2c3d4e5f60: GPU 0 out of memory while allocating 512 MiB for "cat.png"', { job: { id: 'b', attempt: 1 } });
    const c = failure('connection refused by 10.0.0.7:8188', { job: { id: 'c', attempt: 1 } });
    expect(await s.write([a, b, c], signal)).toEqual({ status: 'ok' });
    const byJob = Object.fromEntries(endpoint.events.map((e) => [(e.contexts as { job: { id: string } }).job.id, e.fingerprint]));
    expect(byJob.a).toEqual(byJob.b);
    expect(byJob.a).not.toEqual(byJob.c);
  });

  it('reports only final failures when asked, and each failure once under a deterministic id', async () => {
    const s = sink({ onlyFinal: true });
    const retrying = failure('boom', {}, { willRetry: true });
    const final = failure('boom', {}, { willRetry: false });
    expect(await s.write([retrying, final], signal)).toEqual({ status: 'ok' });
    expect(await s.write([final], signal)).toEqual({ status: 'ok' }); // a redelivery
    expect(endpoint.events.map((e) => e.event_id)).toEqual([final.id.replace(/-/g, ''), final.id.replace(/-/g, '')]);
    expect(s.stats().skippedNotFinal).toBe(1);
  });

  it('on 429 with Retry-After sends nothing before it expires, then delivers', async () => {
    const s = sink();
    const other = makeEvent({ type: 'job.started', data: {} });
    const f = failure('rate me');
    endpoint.failNext(1, { status: 429, retryAfter: '2' });
    const first = await s.write([other, f], signal);
    const limitedAt = endpoint.requestTimes[0]!;
    expect(first).toMatchObject({ status: 'retry', confirmedIds: [other.id] });
    const waitMs = (first as { retryAfterMs: number }).retryAfterMs;
    expect(waitMs).toBeGreaterThan(1_800);
    expect(waitMs).toBeLessThanOrEqual(2_000);

    // A caller that ignores the wait gets told again, and nothing goes out.
    const early = await s.write([f], signal);
    expect(early.status).toBe('retry');
    expect(endpoint.requestTimes).toHaveLength(1);

    // The pipeline honours retryAfterMs, then writes again.
    let result = early;
    while (result.status === 'retry') {
      await new Promise((r) => setTimeout(r, result.status === 'retry' ? (result.retryAfterMs ?? 100) : 0));
      result = await s.write([f], signal);
    }
    expect(result).toEqual({ status: 'ok' });
    expect(endpoint.requestTimes).toHaveLength(2);
    expect(endpoint.requestTimes[1]! - limitedAt).toBeGreaterThanOrEqual(1_950);
    expect(endpoint.events).toHaveLength(1);
  });

  it('reads the wait from X-Sentry-Rate-Limits for the error category', async () => {
    const s = sink();
    endpoint.failNext(1, { status: 429, rateLimits: '1:error;transaction:organization, 60:replay:organization' });
    const r = await s.write([failure('limited')], signal);
    expect(r.status === 'retry' && r.retryAfterMs).toBeGreaterThan(800);
    expect(r.status === 'retry' && r.retryAfterMs).toBeLessThanOrEqual(1_000);
  });

  it('retries on 500, 503 and reset connections, and loses nothing once Sentry is back', async () => {
    const s = sink();
    const f = failure('flaky backend');
    for (const fault of [{ status: 500 }, { status: 503 }, { reset: true }]) {
      endpoint.failNext(1, fault);
      const r = await s.write([f], signal);
      expect(r).toMatchObject({ status: 'retry', confirmedIds: [] });
    }
    expect(endpoint.events).toHaveLength(0);
    expect(await s.write([f], signal)).toEqual({ status: 'ok' });
    expect(endpoint.events).toHaveLength(1);
    expect(s.stats()).toMatchObject({ sent: 1, retried: 3 });
  });

  it('rejects an event Sentry refuses with 400, with its reason, and confirms the rest of the batch', async () => {
    const s = sink();
    const bad = failure('bad one', { job: { id: 'bad', attempt: 1 } });
    endpoint.failNext(1, { status: 400, body: '{"detail":"invalid event envelope"}' });
    const r = await s.write([bad], signal);
    expect(r).toEqual({ status: 'ok', rejected: [{ eventId: bad.id, reason: expect.stringContaining('HTTP 400') }] });
    expect(r.rejected![0]!.reason).toContain('invalid event envelope');
    expect(await s.health()).toMatchObject({ ok: true });
  });
});
