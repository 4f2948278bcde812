import type { JobView } from './api-types.js';
import { formatAgo, formatDuration, formatPercent } from './format.js';
import type { TableColumn } from './table.js';

/** The job table columns `jobs` and `watch` share. */

/** State plus the stuck/orphaned/waiting flag, e.g. `running!stuck`. */
export function stateLabel(job: JobView): string {
  const flags = job.flags ?? {};
  const flag = flags.orphaned ? ' (orphaned)' : flags.stuck ? ' (stuck)' : flags.waitingTooLong ? ' (waiting)' : '';
  return job.state + flag;
}

/** Columns of a job list, relative to `now`. */
export function jobColumns(now: number): TableColumn<JobView>[] {
  return [
    { header: 'JOB', value: (j) => j.id, maxWidth: 36 },
    { header: 'STATE', value: stateLabel, maxWidth: 22 },
    { header: 'ATT', value: (j) => String(j.attempt), alignRight: true },
    { header: 'SERVICE', value: (j) => j.serviceType, maxWidth: 20 },
    { header: 'MACHINE/WORKER', value: (j) => `${j.machineId}/${j.workerId}`, maxWidth: 36 },
    { header: 'MODEL', value: (j) => j.ai?.model ?? '-', maxWidth: 24 },
    { header: 'PROG', value: (j) => formatPercent(j.progress), alignRight: true },
    { header: 'DURATION', value: (j) => formatDuration(j.durationMs ?? (j.startedAt && !j.finishedAt ? now - j.startedAt : undefined)), alignRight: true },
    { header: 'UPDATED', value: (j) => formatAgo(j.updatedAt, now), alignRight: true },
  ];
}
