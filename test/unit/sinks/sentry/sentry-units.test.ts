import { describe, expect, it } from 'vitest';
import { loadSentryConfig } from '../../../../src/config/sentry-config.js';
import { verdictOf } from '../../../../src/sinks/sentry/answer-verdict.js';
import type { JobscopeEvent } from '../../../../src/events/index.js';
import { normalizeMessage, parseRetryAfterMs, parseSentryRateLimitsMs, sentryEventId } from '../../../../src/sinks/sentry/index.js';
import { buildSentryEvent } from '../../../../src/sinks/sentry/sentry-event.js';
import { makeEvent } from '../../../helpers/events.js';

describe('normalizeMessage', () => {
  it('replaces uuids, hex ids, numbers and quoted strings, but keeps the words', () => {
    expect(normalizeMessage('job 0190f1e2-7a3b-7c4d-8e5f-0123456789ab failed after 3 tries')).toBe('job <uuid> failed after <n> tries');
    expect(normalizeMessage("can't open 'out/img-77.png' at 0x7ffe12 (deadbeef42)")).toBe("can't open <str> at <hex> (<hex>)");
    expect(normalizeMessage('CUDA out of memory.  Tried to allocate 2.50 GiB')).toBe('CUDA out of memory. Tried to allocate <n> GiB');
  });
});

describe('rate limit headers', () => {
  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfterMs('2')).toBe(2000);
    expect(parseRetryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
    expect(parseRetryAfterMs('soon')).toBeUndefined();
  });

  it('reads X-Sentry-Rate-Limits for the error category only', () => {
    expect(parseSentryRateLimitsMs('60::organization')).toBe(60_000);
    expect(parseSentryRateLimitsMs('5:error;transaction:key, 120:replay:org')).toBe(5_000);
    expect(parseSentryRateLimitsMs('120:replay;transaction:org')).toBeUndefined();
  });

  it('turns answers into ok, retry with a wait, or a rejection with the reason', () => {
    expect(verdictOf({ statusCode: 200 })).toEqual({ kind: 'ok' });
    expect(verdictOf({ statusCode: 429 })).toMatchObject({ kind: 'retry', retryAfterMs: 60_000 });
    expect(verdictOf({ statusCode: 503, retryAfter: '7' })).toMatchObject({ kind: 'retry', retryAfterMs: 7_000 });
    expect(verdictOf({ error: 'socket hang up' })).toMatchObject({ kind: 'retry', reason: expect.stringContaining('socket hang up') });
    expect(verdictOf({ statusCode: 413, detail: 'envelope too large' })).toEqual({
      kind: 'rejected',
      reason: 'Sentry refused the event with HTTP 413: envelope too large',
    });
  });
});

describe('buildSentryEvent', () => {
  it("takes the job context's queue wait and input size from the run that failed, when an attempt number ran before (a job id re-added)", () => {
    const T = 1_700_000_000_000;
    const crumb = (eventId: string, type: string, time: number, data?: Record<string, unknown>) => ({ eventId, type, time, level: 'info' as const, attempt: 1, ...(data ? { data } : {}) });
    const timeline = [
      crumb('a1', 'job.received', T, { queueWaitMs: 10, inputSize: 1 }),
      crumb('a2', 'job.started', T + 1, { queueWaitMs: 10 }),
      crumb('a3', 'job.completed', T + 5),
      crumb('b1', 'job.received', T + 60_000, { queueWaitMs: 700, inputSize: 2048 }),
      crumb('b2', 'job.started', T + 60_001),
    ];
    const failed = makeEvent({
      type: 'job.failed',
      time: T + 60_050,
      job: { id: 'nightly', attempt: 1 },
      data: { durationMs: 49, willRetry: false, error: { type: 'Error', category: 'network', message: 'ECONNRESET' } },
    }) as Extract<JobscopeEvent, { type: 'job.failed' }>;
    const job = buildSentryEvent(failed, timeline, ['service', 'message']).contexts!.job!;
    expect(job).toMatchObject({ queue_wait_ms: 700, input_size: 2048 });
  });
});

describe('sentryEventId', () => {
  it('is the Jobscope event id without dashes', () => {
    expect(sentryEventId('0190f1e2-7a3b-7c4d-8e5f-0123456789ab')).toBe('0190f1e27a3b7c4d8e5f0123456789ab');
  });
});

describe('loadSentryConfig', () => {
  it('is off without a DSN and takes Railway defaults for release and environment', () => {
    expect(loadSentryConfig({})).toMatchObject({ enabled: false, environment: 'production', onlyFinal: false, fingerprint: ['service', 'category', 'message'] });
    const c = loadSentryConfig({
      SENTRY_DSN: 'https://abc@o1.ingest.sentry.io/123',
      RAILWAY_GIT_COMMIT_SHA: 'f00dcafe',
      RAILWAY_ENVIRONMENT_NAME: 'staging',
      SENTRY_ONLY_FINAL: 'true',
      SENTRY_FINGERPRINT: 'service,type,message',
    });
    expect(c).toMatchObject({ enabled: true, release: 'f00dcafe', environment: 'staging', onlyFinal: true, fingerprint: ['service', 'type', 'message'] });
    expect(loadSentryConfig({ SENTRY_RELEASE: 'v1', RAILWAY_GIT_COMMIT_SHA: 'x', SENTRY_ENVIRONMENT: 'prod' })).toMatchObject({ release: 'v1', environment: 'prod' });
  });

  it('names the variable when a value is wrong', () => {
    expect(() => loadSentryConfig({ SENTRY_DSN: 'not a dsn' })).toThrow(/SENTRY_DSN/);
    expect(() => loadSentryConfig({ SENTRY_FINGERPRINT: 'service,colour' })).toThrow(/SENTRY_FINGERPRINT.*colour/);
  });
});
