import { Counter, Gauge, type Registry } from 'prom-client';
import type { PublisherStats } from '../logger/types.js';

/**
 * The publisher's counters as Prometheus metrics of a job-worker process:
 * `jobscope_publisher_events_total{outcome}` (published, spooled, dropped, invalid) and
 * `jobscope_publisher_buffered_events`. Read from `stats()` at scrape time, so the logger's hot
 * path does no metrics work.
 */
export function registerPublisherMetrics(registry: Registry, stats: () => PublisherStats): void {
  const reported = { published: 0, spooled: 0, dropped: 0, invalid: 0 };
  const events = new Counter({
    name: 'jobscope_publisher_events_total',
    help: 'Events of this process by outcome: published to Redis, spooled to disk, dropped past both bounds, invalid calls',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const s = stats();
      const now = { published: s.published, spooled: s.spooled, dropped: s.dropped, invalid: s.invalidCalls };
      for (const outcome of Object.keys(now) as (keyof typeof now)[]) {
        const delta = now[outcome] - reported[outcome];
        if (delta > 0) events.inc({ outcome }, delta);
        reported[outcome] = now[outcome];
      }
    },
  });
  new Gauge({
    name: 'jobscope_publisher_buffered_events',
    help: 'Events waiting in memory to be published',
    registers: [registry],
    collect() {
      this.set(stats().buffered);
    },
  });
  new Gauge({
    name: 'jobscope_publisher_spool_pending_events',
    help: 'Events waiting in the spool file to be replayed',
    registers: [registry],
    collect() {
      this.set(stats().spoolPending);
    },
  });
}
