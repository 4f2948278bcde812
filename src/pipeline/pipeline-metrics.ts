import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The pipeline's self-metrics (agreed names, see the metrics table in the issue), registered
 * on the prom-client Registry the caller passes in. Registering twice on one registry (two
 * pipelines in one process, tests) reuses the metrics already there.
 */

/** Most distinct `service_type` label values; the rest are counted under `other`. */
export const MAX_SERVICE_TYPES = 100;

/** The pipeline's metrics. */
export interface PipelineMetrics {
  writes: Counter<'sink' | 'result'>;
  writeDuration: Histogram<'sink'>;
  events: Counter<'sink' | 'outcome'>;
  breakerState: Gauge<'sink'>;
  groupLag: Gauge<'sink'>;
  groupPending: Gauge<'sink'>;
  streamLength: Gauge<'stream'>;
  deadLetters: Counter<'sink' | 'reason'>;
  deadLetterLength: Gauge;
  groupsRecreated: Counter<'sink'>;
  consumed: Counter<'sink' | 'type' | 'service_type'>;
  /** Maps a service type to its label value, bounded by {@link MAX_SERVICE_TYPES}. */
  serviceLabel(serviceType: string): string;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Creates (or finds) the pipeline metrics on `registry`. */
export function createPipelineMetrics(registry: Registry): PipelineMetrics {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    reuse(registry, name, () => new Counter<L>({ name, help, labelNames, registers }));
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]) =>
    reuse(registry, name, () => new Gauge<L>({ name, help, labelNames, registers }));
  const seen = new Set<string>();
  return {
    writes: counter('jobscope_sink_writes_total', 'Sink batch writes by result (ok, retry, error, partial).', ['sink', 'result']),
    writeDuration: reuse(registry, 'jobscope_sink_write_duration_seconds', () =>
      new Histogram({
        name: 'jobscope_sink_write_duration_seconds',
        help: 'Duration of one sink batch write, in seconds.',
        labelNames: ['sink'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
    ),
    events: counter('jobscope_sink_events_total', 'Events handled by a sink loop, by outcome (acked, dead_lettered, retried).', ['sink', 'outcome']),
    breakerState: gauge('jobscope_sink_breaker_state', 'Circuit breaker state per sink: 0 closed, 1 half-open, 2 open.', ['sink']),
    groupLag: gauge('jobscope_group_lag', 'Entries not yet delivered to the sink consumer group, summed over shards.', ['sink']),
    groupPending: gauge('jobscope_group_pending', 'Entries delivered to the sink consumer group but not acknowledged.', ['sink']),
    streamLength: gauge('jobscope_stream_length', 'Entries in the event stream.', ['stream']),
    deadLetters: counter('jobscope_dead_letters_total', 'Entries moved to the dead-letter stream, by reason (invalid, max_deliveries, rejected).', ['sink', 'reason']),
    deadLetterLength: gauge('jobscope_dead_letter_stream_length', 'Entries in the dead-letter stream.', []),
    groupsRecreated: counter('jobscope_groups_recreated_total', 'Consumer groups recreated because Redis came back empty (NOGROUP).', ['sink']),
    consumed: counter('jobscope_events_consumed_total', 'Events a sink confirmed, by type and service type.', ['sink', 'type', 'service_type']),
    serviceLabel(serviceType: string): string {
      if (seen.has(serviceType)) return serviceType;
      if (seen.size >= MAX_SERVICE_TYPES) return 'other';
      seen.add(serviceType);
      return serviceType;
    },
  };
}
