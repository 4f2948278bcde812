import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetricsSink } from '../../../../src/sinks/metrics/index.js';
import { loadMetricsConfig } from '../../../../src/config/metrics-config.js';
import { ConfigError } from '../../../../src/errors.js';
import type { JobscopeEvent } from '../../../../src/events/index.js';
import { makeEvent } from '../../../helpers/events.js';

type Over = Partial<JobscopeEvent> & Pick<JobscopeEvent, 'type'>;
const ev = (o: Over) => makeEvent(o);
const signal = new AbortController().signal;

/** The value of one series line in the exposition text, or undefined when absent. */
function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const gpt = { model: 'gpt-4o', provider: 'openai' };

describe('metrics sink', () => {
  it('derives job, duration, queue-wait, token and cost series from a job lifecycle', async () => {
    const registry = new Registry();
    const sink = createMetricsSink({ registry });
    const events = [
      ev({ type: 'job.received', data: { queueWaitMs: 2000 }, ai: gpt }),
      ev({ type: 'job.started', data: { queueWaitMs: 2500 }, ai: gpt }),
      ev({ type: 'job.progress', data: { progress: 50 }, ai: { ...gpt, inputTokens: 999 } }),
      ev({
        type: 'job.completed',
        data: { durationMs: 1500 },
        ai: { ...gpt, inputTokens: 100, outputTokens: 40, cachedTokens: 10, costUsd: 0.25, timeToFirstTokenMs: 300 },
      }),
      ev({ type: 'job.received', job: { id: 'job-2', attempt: 1 } }),
      ev({
        type: 'job.failed',
        job: { id: 'job-2', attempt: 1 },
        data: { durationMs: 700, error: { type: 'TimeoutError', category: 'timeout', message: 'slow' } },
        ai: { ...gpt, inputTokens: 5, costUsd: 0.01 },
      }),
      ev({ type: 'worker.heartbeat', data: { intervalMs: 5000, currentJobs: [] } }),
    ];
    expect(await sink.write(events, signal)).toEqual({ status: 'ok' });
    const text = await registry.metrics();

    expect(series(text, 'jobscope_events_total', { type: 'job.received', service_type: 'comfyui' })).toBe(2);
    expect(series(text, 'jobscope_events_total', { type: 'worker.heartbeat' })).toBe(1);
    expect(series(text, 'jobscope_jobs_total', { status: 'completed', connector_id: 'comfyui-local', model: 'gpt-4o' })).toBe(1);
    expect(series(text, 'jobscope_jobs_total', { status: 'received', model: 'unknown' })).toBe(1);
    expect(series(text, 'jobscope_jobs_total', { status: 'failed', model: 'gpt-4o' })).toBe(1);
    expect(series(text, 'jobscope_job_duration_seconds_sum', { status: 'completed', model: 'gpt-4o' })).toBe(1.5);
    expect(series(text, 'jobscope_job_duration_seconds_bucket', { status: 'completed', le: '1' })).toBe(0);
    expect(series(text, 'jobscope_job_duration_seconds_bucket', { status: 'completed', le: '2.5' })).toBe(1);
    // The received event's wait is the one observed for the attempt, not both.
    expect(series(text, 'jobscope_job_queue_wait_seconds_count', { service_type: 'comfyui' })).toBe(1);
    expect(series(text, 'jobscope_job_queue_wait_seconds_sum', { service_type: 'comfyui' })).toBe(2);
    // Tokens from terminal events only: the progress event's 999 is not counted.
    expect(series(text, 'jobscope_ai_tokens_total', { model: 'gpt-4o', provider: 'openai', type: 'input' })).toBe(105);
    expect(series(text, 'jobscope_ai_tokens_total', { type: 'output' })).toBe(40);
    expect(series(text, 'jobscope_ai_tokens_total', { type: 'cached' })).toBe(10);
    expect(series(text, 'jobscope_ai_cost_usd_total', { model: 'gpt-4o', service_type: 'comfyui' })).toBeCloseTo(0.26, 10);
    expect(series(text, 'jobscope_ai_time_to_first_token_seconds_sum', { model: 'gpt-4o' })).toBe(0.3);
  });

  it("observes the queue wait of each run: a job re-added under an id that ran before (attempt 1 again, its own span) counts again", async () => {
    const registry = new Registry();
    const sink = createMetricsSink({ registry });
    const job = { id: 'nightly', attempt: 1 };
    const trace = (spanId: string) => ({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId });
    await sink.write(
      [
        ev({ type: 'job.received', job, trace: trace('1111111111111111'), data: { queueWaitMs: 1000 } }),
        ev({ type: 'job.started', job, trace: trace('1111111111111111'), data: { queueWaitMs: 1000 } }),
        ev({ type: 'job.received', job, trace: trace('2222222222222222'), data: { queueWaitMs: 3000 } }),
        ev({ type: 'job.started', job, trace: trace('2222222222222222'), data: { queueWaitMs: 3000 } }),
      ],
      signal,
    );
    const text = await registry.metrics();
    expect(series(text, 'jobscope_job_queue_wait_seconds_count', { service_type: 'comfyui' })).toBe(2);
    expect(series(text, 'jobscope_job_queue_wait_seconds_sum', { service_type: 'comfyui' })).toBe(4);
  });

  it('does not count a redelivered event twice', async () => {
    const registry = new Registry();
    const sink = createMetricsSink({ registry });
    const done = ev({ type: 'job.completed', data: { durationMs: 10 }, ai: { ...gpt, outputTokens: 7 } });
    await sink.write([done], signal);
    await sink.write([done], signal);
    const text = await registry.metrics();
    expect(series(text, 'jobscope_jobs_total', { status: 'completed' })).toBe(1);
    expect(series(text, 'jobscope_ai_tokens_total', { type: 'output' })).toBe(7);
    expect(series(text, 'jobscope_metrics_duplicate_events_total')).toBe(1);
  });

  it("counts the usage of a run BullMQ put back or a stopping worker handed back, once, and not other log events' usage", async () => {
    const registry = new Registry();
    const sink = createMetricsSink({ registry });
    const comfy = { model: 'sdxl', provider: 'comfyui' };
    await sink.write(
      [
        // A log line mid-run carries the attempt's usage so far: not a run's end.
        ev({ type: 'log', level: 'info', message: 'sampling', data: { kind: 'log' }, attrs: {}, ai: { ...comfy, gpuSeconds: 3, costUsd: 0.5 } }),
        // Attempt 1 handed back at a shutdown, attempt 2 put back by a rate limit, attempt 3 completed.
        ev({ type: 'log', level: 'warn', message: 'job handed back to the queue at shutdown', data: { kind: 'log' }, attrs: { kind: 'handed_back' }, ai: { ...comfy, gpuSeconds: 4, costUsd: 1 } }),
        ev({ type: 'log', level: 'info', job: { id: 'job-1', attempt: 2 }, message: 'job rate-limited', data: { kind: 'log' }, attrs: { kind: 'rate_limited' }, ai: { ...gpt, inputTokens: 30, costUsd: 0.02 } }),
        ev({ type: 'job.completed', job: { id: 'job-1', attempt: 3 }, data: { durationMs: 10 }, ai: { ...gpt, inputTokens: 12, costUsd: 0.04 } }),
      ],
      signal,
    );
    const text = await registry.metrics();
    expect(series(text, 'jobscope_ai_cost_usd_total', { model: 'sdxl', provider: 'comfyui' })).toBe(1);
    expect(series(text, 'jobscope_ai_cost_usd_total', { model: 'gpt-4o' })).toBeCloseTo(0.06, 10);
    expect(series(text, 'jobscope_ai_tokens_total', { model: 'gpt-4o', type: 'input' })).toBe(42);
    // A put-back run is not a job status.
    expect(series(text, 'jobscope_jobs_total', { status: 'completed' })).toBe(1);
    expect(text).not.toMatch(/jobscope_jobs_total\{status="(?!completed)/);
  });

  it('caps label cardinality: new values past the cap become "other" and are counted', async () => {
    const registry = new Registry();
    const sink = createMetricsSink({ registry, maxLabelValues: 3 });
    const events = Array.from({ length: 10 }, (_, i) => ev({ type: 'job.started', data: {}, ai: { model: `model-${i}` } }));
    await sink.write(events, signal);
    const text = await registry.metrics();
    const models = new Set([...text.matchAll(/jobscope_jobs_total\{[^}]*model="([^"]+)"/g)].map((x) => x[1]));
    expect(models).toEqual(new Set(['model-0', 'model-1', 'model-2', 'other']));
    expect(series(text, 'jobscope_jobs_total', { model: 'other' })).toBe(7);
    expect(series(text, 'jobscope_metrics_label_overflow_total', { label: 'model' })).toBe(7);
  });

  it('refuses a second metrics sink on the same registry, and writes after close', async () => {
    const registry = new Registry();
    const sink = createMetricsSink({ registry });
    expect(() => createMetricsSink({ registry })).toThrow(/already registered/);
    expect(sink.name).toBe('metrics');
    expect((await sink.health()).ok).toBe(true);
    await sink.close();
    await sink.close();
    await expect(sink.write([ev({ type: 'log' })], signal)).rejects.toThrow(/closed/);
  });
});

describe('loadMetricsConfig', () => {
  it('has defaults and rejects out-of-range values naming the variable', () => {
    expect(loadMetricsConfig({})).toEqual({ maxLabelValues: 200, dedupeWindowEvents: 100_000 });
    expect(() => loadMetricsConfig({ METRICS_MAX_LABEL_VALUES: '1' })).toThrow(ConfigError);
    expect(() => loadMetricsConfig({ METRICS_MAX_LABEL_VALUES: '1' })).toThrow(/METRICS_MAX_LABEL_VALUES/);
  });
});
