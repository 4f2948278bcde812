import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { loadWorkerConfig } from '../../../src/config/worker-config.js';
import type { Job } from 'bullmq';
import { backoffDelayMs, memoizeBackoffStrategy, retryAfterDelayMs, workerBackoffStrategy } from '../../../src/jobs/backoff-delay.js';
import { queueWaitMs } from '../../../src/jobs/job-processor.js';
import { enqueueTraceparent } from '../../../src/jobs/producer.js';
import { createUsageAccumulator } from '../../../src/jobs/usage-accumulator.js';
import { enqueueSpanIdOf, parseTraceparent } from '../../../src/events/index.js';

describe('backoffDelayMs', () => {
  it('matches BullMQ built-in strategies', () => {
    expect(backoffDelayMs({ type: 'fixed', delay: 500 }, 3)).toBe(500);
    expect(backoffDelayMs({ type: 'exponential', delay: 100 }, 1)).toBe(100);
    expect(backoffDelayMs({ type: 'exponential', delay: 100 }, 3)).toBe(400);
    expect(backoffDelayMs(250, 2)).toBe(250);
    expect(backoffDelayMs(undefined, 1)).toBe(0);
    expect(backoffDelayMs({ type: 'custom' }, 1)).toBeUndefined();
  });
});

describe('the retry-after backoff', () => {
  it("waits as exponential does, or as long as the failure's retryAfterMs asks, whichever is longer", () => {
    expect(retryAfterDelayMs(1, { retryAfterMs: 5000 }, 1000)).toBe(5000);
    expect(retryAfterDelayMs(3, { retryAfterMs: 100 }, 1000)).toBe(4000);
    expect(retryAfterDelayMs(2, new Error('no header'), 500)).toBe(1000);
    expect(retryAfterDelayMs(1, { retryAfterMs: 1.2 }, undefined)).toBe(2);
  });

  it("is the worker's strategy for its type; other types go to the user's strategy, or fail as BullMQ fails them", async () => {
    const job = { opts: { backoff: { type: 'retry-after', delay: 100 } } } as unknown as Job;
    expect(await workerBackoffStrategy(undefined)(2, 'retry-after', Object.assign(new Error('429'), { retryAfterMs: 30_000 }), job)).toBe(30_000);
    expect(await workerBackoffStrategy(() => 7)(1, 'mine', new Error('x'), job)).toBe(7);
    expect(() => workerBackoffStrategy(undefined)(1, 'mine', new Error('x'), job)).toThrow(/Unknown backoff strategy mine/);
  });
});

describe('memoizeBackoffStrategy', () => {
  const job = (backoff: unknown) => ({ id: 'j', opts: { backoff } }) as unknown as Job;

  it('asks a custom strategy once per failure: BullMQ gets the answer the runtime got', async () => {
    let calls = 0;
    const memo = memoizeBackoffStrategy(() => (++calls === 1 ? -1 : 100));
    const j = job({ type: 'custom' });
    const err = new Error('x');
    expect(await memo.delayFor(j, 1, err)).toBe(-1);
    expect(await memo.strategy(1, 'custom', err, j)).toBe(-1);
    expect(calls).toBe(1);
    // Not asked by the runtime (another attempt, another job): BullMQ's call goes to the strategy.
    expect(await memo.strategy(2, 'custom', err, j)).toBe(100);
    expect(calls).toBe(2);
  });

  it('leaves built-in types and jobs without backoff to the built-in computation', () => {
    const memo = memoizeBackoffStrategy(() => -1);
    expect(memo.delayFor(job({ type: 'fixed', delay: 10 }), 1, new Error('x'))).toBeUndefined();
    expect(memo.delayFor(job({ type: 'exponential', delay: 10 }), 1, new Error('x'))).toBeUndefined();
    expect(memo.delayFor(job(undefined), 1, new Error('x'))).toBeUndefined();
  });

  it('a strategy that throws: both see the same rejection, from one call', async () => {
    let calls = 0;
    const memo = memoizeBackoffStrategy(() => {
      calls++;
      throw new Error('no strategy for this');
    });
    const j = job({ type: 'custom' });
    await expect(memo.delayFor(j, 1, new Error('x'))).rejects.toThrow('no strategy for this');
    await expect(Promise.resolve().then(() => memo.strategy(1, 'custom', new Error('x'), j))).rejects.toThrow('no strategy for this');
    expect(calls).toBe(1);
  });
});

describe('queueWaitMs', () => {
  it('is processedOn − timestamp − delay, never negative', () => {
    expect(queueWaitMs({ timestamp: 1000, processedOn: 1750, delay: 500 })).toBe(250);
    expect(queueWaitMs({ timestamp: 1000, processedOn: 1100, delay: 500 })).toBe(0);
  });

  it("subtracts the delay option too: BullMQ zeroes the job's delay field when the delayed job becomes due", () => {
    expect(queueWaitMs({ timestamp: 1000, processedOn: 3_601_250, delay: 0, opts: { delay: 3_600_000 } })).toBe(250);
  });
});

describe('usage accumulator', () => {
  it('adds counts, replaces names and time to first token, drops bad numbers', () => {
    const u = createUsageAccumulator();
    expect(u.get()).toBeUndefined();
    u.add({ model: 'a', inputTokens: 10, timeToFirstTokenMs: 50 });
    u.add({ model: 'b', inputTokens: 5, outputTokens: Number.NaN, gpuSeconds: 1.5 });
    u.add({ outputTokens: -3, timeToFirstTokenMs: 70 });
    expect(u.get()).toEqual({ model: 'b', inputTokens: 15, gpuSeconds: 1.5, timeToFirstTokenMs: 70 });
  });
});

describe('enqueueTraceparent', () => {
  it('keeps a valid caller traceparent, starts a new trace otherwise', () => {
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(enqueueTraceparent(given)).toBe(given);
    const fresh = enqueueTraceparent('garbage');
    expect(parseTraceparent(fresh)).toBeDefined();
    expect(fresh).not.toBe(enqueueTraceparent());
    // A trace of its own: its enqueue span id is the trace id's start (the OTel sink exports that span).
    const p = parseTraceparent(fresh)!;
    expect(p.spanId).toBe(enqueueSpanIdOf(p.traceId));
  });
});

describe('loadWorkerConfig', () => {
  it('has the documented defaults', () => {
    expect(loadWorkerConfig({})).toEqual({
      queue: 'jobs',
      concurrency: 4,
      heartbeatIntervalMs: 5000,
      shutdownTimeoutMs: 25_000,
      openaiBaseUrl: undefined,
      openaiApiKey: undefined,
      openaiModel: 'gpt-4o-mini',
      openaiTimeoutMs: 120_000,
      comfyuiUrl: undefined,
      pricesFile: undefined,
      demoRatePerSec: 2,
      healthPort: 0,
      connector: undefined,
    });
  });

  it('names the bad variable', () => {
    expect(() => loadWorkerConfig({ WORKER_CONCURRENCY: '0' })).toThrow(ConfigError);
    expect(() => loadWorkerConfig({ WORKER_CONCURRENCY: 'x' })).toThrow(/WORKER_CONCURRENCY/);
    expect(() => loadWorkerConfig({ COMFYUI_URL: 'ftp://x' })).toThrow(/COMFYUI_URL/);
    expect(() => loadWorkerConfig({ DEMO_RATE_PER_SEC: '-1' })).toThrow(/DEMO_RATE_PER_SEC/);
    expect(() => loadWorkerConfig({ OPENAI_TIMEOUT_MS: '500' })).toThrow(/OPENAI_TIMEOUT_MS: must be at least 1000/);
    expect(() => loadWorkerConfig({ OPENAI_TIMEOUT_MS: '2m' })).toThrow(/OPENAI_TIMEOUT_MS: must be a whole number/);
    expect(loadWorkerConfig({ OPENAI_TIMEOUT_MS: '300000' }).openaiTimeoutMs).toBe(300_000);
  });
});
