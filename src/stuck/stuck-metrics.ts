import { Gauge, type Registry } from 'prom-client';
import type { JobRecord, JobState, WorkerLiveness } from '../status/types.js';

/** The read-side gauges, registered once on a registry. */
export interface StuckMetrics {
  /** Sets every gauge from one detector pass. */
  update(pass: {
    stuck: JobRecord[];
    orphaned: JobRecord[];
    waitingTooLong: JobRecord[];
    workers: Record<WorkerLiveness, number>;
    jobsByState: Record<JobState, number>;
  }): void;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/**
 * Creates `jobscope_jobs_stuck{service_type}`, `jobscope_jobs_orphaned{service_type}`,
 * `jobscope_jobs_waiting_too_long{queue}`, `jobscope_workers{liveness}` and
 * `jobscope_jobs_by_state{state}` on `registry`.
 */
export function createStuckMetrics(registry: Registry): StuckMetrics {
  const g = (name: string, help: string, label: string) =>
    new Gauge({ name, help, labelNames: [label], registers: [registry] });
  const stuck = g('jobscope_jobs_stuck', 'Jobs running or received with no event for longer than their service threshold', 'service_type');
  const orphaned = g('jobscope_jobs_orphaned', 'Jobs whose worker is dead or stopped', 'service_type');
  const waiting = g('jobscope_jobs_waiting_too_long', 'Jobs received but not started for longer than the queue-wait threshold', 'queue');
  const workers = g('jobscope_workers', 'Job workers by liveness', 'liveness');
  const byState = g('jobscope_jobs_by_state', 'Jobs in the status store by state', 'state');

  const setAll = (gauge: Gauge, counts: Map<string, number>, label: string) => {
    gauge.reset();
    for (const [value, n] of counts) gauge.set({ [label]: value }, n);
  };
  return {
    update(pass) {
      setAll(stuck, countBy(pass.stuck, (j) => j.serviceType), 'service_type');
      setAll(orphaned, countBy(pass.orphaned, (j) => j.serviceType), 'service_type');
      setAll(waiting, countBy(pass.waitingTooLong, (j) => j.queue ?? 'unknown'), 'queue');
      setAll(workers, new Map(Object.entries(pass.workers)), 'liveness');
      setAll(byState, new Map(Object.entries(pass.jobsByState)), 'state');
    },
  };
}
