import type { Registry } from 'prom-client';
import { isPutBack, type JobscopeEvent } from '../../events/index.js';
import { ClosedError } from '../../errors.js';
import type { Sink } from '../sink.js';
import { registerJobMetrics, type JobMetrics } from './job-metrics.js';
import { createLabelLimiter } from './label-limiter.js';
import { createRecentSet } from './recent-set.js';

/** Options of {@link createMetricsSink}. */
export interface MetricsSinkOptions {
  /** The prom-client registry the job metrics are registered on (the one `/metrics` serves). */
  registry: Registry;
  /**
   * Most distinct values per label for `model`, `provider`, `connector_id` and `service_type`;
   * past it new values are counted under `other` and in `jobscope_metrics_label_overflow_total`.
   * Default 200.
   */
  maxLabelValues?: number;
  /**
   * How many recent event ids are remembered so a redelivered event is not counted twice
   * (delivery is at-least-once). Default 100,000 (about 4 MB).
   */
  dedupeWindowEvents?: number;
}

const JOB_STATUS: Partial<Record<JobscopeEvent['type'], string>> = {
  'job.received': 'received',
  'job.started': 'started',
  'job.completed': 'completed',
  'job.failed': 'failed',
  'job.retrying': 'retrying',
  'job.cancelled': 'cancelled',
};

const UNKNOWN = 'unknown';

/**
 * Creates the `metrics` sink: it derives job metrics (jobs by status, durations, queue wait,
 * AI tokens, cost, time to first token) from events onto a prom-client registry. It holds
 * in-process state, so an event is "confirmed" as soon as it is counted; every write is `ok`.
 *
 * Tokens, cost and time to first token are taken from the events that end a run, which carry
 * its totals, so usage is never counted twice: terminal events (completed, failed, cancelled) and
 * the `log` event that ends a run BullMQ put back or a stopping worker handed back (isPutBack):
 * that run spent its tokens and GPU time, and the job's next run is an attempt of its own.
 */
export function createMetricsSink(options: MetricsSinkOptions): Sink {
  const m = registerJobMetrics(options.registry);
  const seenEvents = createRecentSet(options.dedupeWindowEvents ?? 100_000);
  const seenQueueWait = createRecentSet(options.dedupeWindowEvents ?? 100_000);
  const limiter = (label: string) =>
    createLabelLimiter({ maxValues: options.maxLabelValues ?? 200, onOverflow: () => m.labelOverflow.inc({ label }) });
  const labels = {
    model: limiter('model'),
    provider: limiter('provider'),
    connector: limiter('connector_id'),
    service: limiter('service_type'),
  };
  let closed = false;

  const observe = (event: JobscopeEvent): void => {
    if (!seenEvents.add(event.id)) {
      m.duplicates.inc();
      return;
    }
    const service = labels.service(event.source.serviceType);
    m.events.inc({ type: event.type, service_type: service });
    const status = JOB_STATUS[event.type];
    if (status === undefined) {
      if (event.ai && isPutBack(event)) observeUsage(m, event, { service, model: labels.model(event.ai.model ?? UNKNOWN), provider: labels.provider(event.ai.provider ?? UNKNOWN) });
      return;
    }
    const model = labels.model(event.ai?.model ?? UNKNOWN);
    m.jobs.inc({ status, service_type: service, connector_id: labels.connector(event.source.connectorId), model });
    observeTimings(m, event, { service, model, status }, seenQueueWait);
    if (event.type === 'job.completed' || event.type === 'job.failed' || event.type === 'job.cancelled') {
      observeUsage(m, event, { service, model, provider: labels.provider(event.ai?.provider ?? UNKNOWN) });
    }
  };

  return {
    name: 'metrics',
    maxBatchSize: 1000,
    write(events) {
      if (closed) return Promise.reject(new ClosedError('metrics sink'));
      for (const event of events) observe(event);
      return Promise.resolve({ status: 'ok' });
    },
    health: () => Promise.resolve({ ok: true, detail: 'in-process Prometheus registry' }),
    close() {
      closed = true;
      return Promise.resolve();
    },
  };
}

function observeTimings(
  m: JobMetrics,
  event: JobscopeEvent,
  l: { service: string; model: string; status: string },
  seenQueueWait: ReturnType<typeof createRecentSet>,
): void {
  if (event.type === 'job.completed' || event.type === 'job.failed') {
    m.jobDuration.observe({ service_type: l.service, model: l.model, status: l.status }, event.data.durationMs / 1000);
  }
  if ((event.type === 'job.received' || event.type === 'job.started') && event.data.queueWaitMs !== undefined) {
    // Both events may carry the wait; the first one seen for the run is observed. The run's span
    // is in the key: a job re-added under an id that ran before counts its attempts from 1 again.
    if (seenQueueWait.add(`${event.job.id}\u0000${event.job.attempt}\u0000${event.trace?.spanId ?? ''}`)) {
      m.queueWait.observe({ service_type: l.service }, event.data.queueWaitMs / 1000);
    }
  }
}

function observeUsage(m: JobMetrics, event: JobscopeEvent, l: { service: string; model: string; provider: string }): void {
  const ai = event.ai;
  if (!ai) return;
  const tokens: [string, number | undefined][] = [
    ['input', ai.inputTokens],
    ['output', ai.outputTokens],
    ['cached', ai.cachedTokens],
    ['reasoning', ai.reasoningTokens],
  ];
  for (const [type, n] of tokens) {
    if (n !== undefined && n > 0) m.tokens.inc({ model: l.model, provider: l.provider, type }, n);
  }
  if (ai.costUsd !== undefined && ai.costUsd > 0) {
    m.cost.inc({ model: l.model, provider: l.provider, service_type: l.service }, ai.costUsd);
  }
  if (ai.timeToFirstTokenMs !== undefined) m.ttft.observe({ model: l.model }, ai.timeToFirstTokenMs / 1000);
}
