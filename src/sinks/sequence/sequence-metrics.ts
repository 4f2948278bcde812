import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The sequence check's metrics (agreed names), registered on the registry passed in; a second
 * sink on the same registry reuses them.
 */

/** Most distinct `service_type` label values; later ones are counted under `other`. */
export const MAX_GAP_SERVICE_TYPES = 100;

/** The sequence check's metrics. */
export interface SequenceMetrics {
  /** `jobscope_producer_seq_gaps_total{service_type}`: events found missing from producers' sequences. */
  gaps: Counter<'service_type'>;
  /** `jobscope_producers_with_gaps`: producers with a detected gap within the retention. */
  producersWithGaps: Gauge;
  /** Maps a service type to its bounded label value. */
  serviceLabel(serviceType: string): string;
}

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Creates (or finds) the metrics on `registry`. */
export function createSequenceMetrics(registry: Registry): SequenceMetrics {
  const registers = [registry];
  const seen = new Set<string>();
  return {
    gaps: reuse(registry, 'jobscope_producer_seq_gaps_total', () =>
      new Counter({
        name: 'jobscope_producer_seq_gaps_total',
        help: 'Events missing from producers\' sequence numbers (lost before they reached the stream), by service type.',
        labelNames: ['service_type'],
        registers,
      }),
    ),
    producersWithGaps: reuse(registry, 'jobscope_producers_with_gaps', () =>
      new Gauge({ name: 'jobscope_producers_with_gaps', help: 'Producers with a detected sequence gap (within the retention).', registers }),
    ),
    serviceLabel(serviceType) {
      const v = serviceType || 'unknown';
      if (seen.has(v)) return v;
      if (seen.size < MAX_GAP_SERVICE_TYPES) {
        seen.add(v);
        return v;
      }
      return 'other';
    },
  };
}
