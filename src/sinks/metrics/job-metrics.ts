import { Counter, Histogram, type Registry } from 'prom-client';
import { JobscopeError } from '../../errors.js';

/** Job duration buckets, in seconds: AI jobs run from sub-second calls to hour-long renders. */
export const JOB_DURATION_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** Queue-wait buckets, in seconds. */
export const QUEUE_WAIT_BUCKETS_SECONDS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
/** Time-to-first-token buckets, in seconds. */
export const TTFT_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** The job metrics derived from events (names agreed in the design; see docs/sinks-metrics-fluentd.md). */
export interface JobMetrics {
  events: Counter<'type' | 'service_type'>;
  jobs: Counter<'status' | 'service_type' | 'connector_id' | 'model'>;
  jobDuration: Histogram<'service_type' | 'model' | 'status'>;
  queueWait: Histogram<'service_type'>;
  tokens: Counter<'model' | 'provider' | 'type'>;
  cost: Counter<'model' | 'provider' | 'service_type'>;
  ttft: Histogram<'model'>;
  labelOverflow: Counter<'label'>;
  duplicates: Counter;
}

const NAMES = [
  'jobscope_events_total',
  'jobscope_jobs_total',
  'jobscope_job_duration_seconds',
  'jobscope_job_queue_wait_seconds',
  'jobscope_ai_tokens_total',
  'jobscope_ai_cost_usd_total',
  'jobscope_ai_time_to_first_token_seconds',
  'jobscope_metrics_label_overflow_total',
  'jobscope_metrics_duplicate_events_total',
];

/** Registers the job metrics on `registry`. Throws when they are already there (one metrics sink per registry). */
export function registerJobMetrics(registry: Registry): JobMetrics {
  const taken = NAMES.filter((n) => registry.getSingleMetric(n) !== undefined);
  if (taken.length > 0) {
    throw new JobscopeError(
      `Metric ${taken.join(', ')} is already registered on this registry: create one metrics sink per registry.`,
    );
  }
  const registers = [registry];
  return {
    events: new Counter({ name: NAMES[0]!, help: 'Events seen by the metrics sink, by type and service.', labelNames: ['type', 'service_type'], registers }),
    jobs: new Counter({
      name: NAMES[1]!,
      help: 'Job lifecycle transitions (received, started, completed, failed, retrying, cancelled).',
      labelNames: ['status', 'service_type', 'connector_id', 'model'],
      registers,
    }),
    jobDuration: new Histogram({
      name: NAMES[2]!,
      help: 'Duration of finished job attempts, in seconds.',
      labelNames: ['service_type', 'model', 'status'],
      buckets: JOB_DURATION_BUCKETS_SECONDS,
      registers,
    }),
    queueWait: new Histogram({
      name: NAMES[3]!,
      help: 'Time jobs waited in the queue before a worker took them, in seconds.',
      labelNames: ['service_type'],
      buckets: QUEUE_WAIT_BUCKETS_SECONDS,
      registers,
    }),
    tokens: new Counter({ name: NAMES[4]!, help: 'AI tokens used by finished jobs, by type (input, output, cached, reasoning).', labelNames: ['model', 'provider', 'type'], registers }),
    cost: new Counter({ name: NAMES[5]!, help: 'AI cost of finished jobs, in US dollars.', labelNames: ['model', 'provider', 'service_type'], registers }),
    ttft: new Histogram({ name: NAMES[6]!, help: 'AI time to first token, in seconds.', labelNames: ['model'], buckets: TTFT_BUCKETS_SECONDS, registers }),
    labelOverflow: new Counter({ name: NAMES[7]!, help: 'Label values bucketed as "other" because the label hit its distinct-value cap.', labelNames: ['label'], registers }),
    duplicates: new Counter({ name: NAMES[8]!, help: 'Redelivered events the metrics sink recognised and did not count again.', registers }),
  };
}
