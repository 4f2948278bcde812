import { JOB_STATES, type FeedEntry, type JobState } from '../status/types.js';
import type { JobView } from './api-types.js';

/**
 * What `jobscope watch` shows: the most recently updated jobs (bounded) and the counts by
 * state, kept current from the SSE feed without re-reading the list.
 */

/** The model. */
export interface WatchModel {
  /** Replaces the rows (from `GET /api/jobs`). */
  setJobs(jobs: JobView[]): void;
  /** Replaces the counts (from `GET /api/stats` → `jobsByState`). */
  setCounts(counts: Partial<Record<JobState, number>>): void;
  /** Applies one feed entry; returns true when something visible changed. */
  apply(entry: FeedEntry): boolean;
  /** Rows, most recently updated first (at most `limit`). */
  rows(): JobView[];
  counts(): Record<JobState, number>;
  /** Feed entries applied since the start. */
  readonly applied: number;
}

/** Creates a {@link WatchModel} keeping at most `limit` rows (older rows fall off). */
export function createWatchModel(limit: number): WatchModel {
  let jobs = new Map<string, JobView>();
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  let applied = 0;

  function trim(): void {
    if (jobs.size <= limit) return;
    const keep = [...jobs.values()].sort((a, b) => b.updatedAt - a.updatedAt).slice(0, limit);
    jobs = new Map(keep.map((j) => [j.id, j]));
  }

  return {
    setJobs(list) {
      jobs = new Map(list.map((j) => [j.id, j]));
      trim();
    },
    setCounts(next) {
      for (const s of JOB_STATES) counts[s] = next[s] ?? 0;
    },
    apply(e) {
      if (e.kind !== 'job' || e.jobId === undefined || e.state === undefined) return false;
      applied++;
      const old = jobs.get(e.jobId);
      if (old) {
        if (old.state !== e.state) {
          counts[old.state] = Math.max(0, counts[old.state] - 1);
          counts[e.state]++;
        }
      } else if (e.eventType === 'job.received' && (e.attempt ?? 1) === 1) counts[e.state]++;
      const startedAt = old?.startedAt ?? (e.state === 'running' ? e.time : undefined);
      const finished = e.eventType === 'job.completed' || e.eventType === 'job.failed' || e.eventType === 'job.cancelled';
      jobs.set(e.jobId, {
        ...(old ?? { id: e.jobId, machineId: e.machineId, workerId: e.workerId, serviceType: e.serviceType, connectorId: e.connectorId, eventCount: 0 }),
        state: e.state,
        attempt: e.attempt ?? old?.attempt ?? 1,
        progress: e.progress ?? (e.eventType === 'job.completed' ? 100 : old?.progress),
        updatedAt: e.time,
        lastEventId: e.eventId,
        lastEventType: e.eventType,
        ...(startedAt !== undefined ? { startedAt } : {}),
        ...(finished ? { finishedAt: e.time, durationMs: old?.durationMs ?? (startedAt !== undefined ? e.time - startedAt : undefined) } : {}),
      } as JobView);
      trim();
      return true;
    },
    rows: () => [...jobs.values()].sort((a, b) => b.updatedAt - a.updatedAt),
    counts: () => ({ ...counts }),
    get applied() {
      return applied;
    },
  };
}
