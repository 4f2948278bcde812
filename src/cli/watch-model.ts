import { JOB_STATES, isFinalState, type FeedEntry, type JobState } from '../status/types.js';
import type { JobView } from './api-types.js';

/**
 * What `jobscope watch` shows: the most recently updated jobs (bounded) and the counts by
 * state, kept current from the SSE feed without re-reading the list.
 *
 * A feed entry carries the job's state, attempt, progress and worker after the event, but no
 * start, duration or model: those come from the API's record, or, for the start, from a
 * `job.started` entry of the same attempt. A newer attempt clears what belonged to the earlier
 * one, as the status store does, so its start, duration and progress never show on the new one.
 * So does a new run under an attempt number already used (a job id re-added, or retried with its
 * attempts reset: attempt 1 again): the store then moves a job that had ended back to received or
 * running, which it never does within a run.
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

/**
 * Jobs kept beyond the rows shown. A row pushed out by newer updates comes back with its next
 * entry; without its earlier row it would come back with no model and no known start until the
 * next API read.
 */
const SPARE_ROWS = 1000;

/** Fields of one attempt, cleared when a newer attempt starts (the status store's ATTEMPT_FIELDS). */
const ATTEMPT_FIELDS = ['receivedAt', 'startedAt', 'finishedAt', 'durationMs', 'queueWaitMs', 'progress', 'stage', 'willRetry', 'nextAttempt'] as const;

/** Creates a {@link WatchModel} showing at most `limit` rows (older rows fall off). */
export function createWatchModel(limit: number): WatchModel {
  let jobs = new Map<string, JobView>();
  const counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  let applied = 0;

  const newestFirst = (a: JobView, b: JobView): number => b.updatedAt - a.updatedAt;

  function trim(): void {
    if (jobs.size <= limit + SPARE_ROWS) return;
    const keep = [...jobs.values()].sort(newestFirst).slice(0, limit + SPARE_ROWS);
    jobs = new Map(keep.map((j) => [j.id, j]));
  }

  /** The row after entry e (of the job's latest attempt, at least as new as old's). */
  function merge(old: JobView | undefined, e: FeedEntry & { jobId: string; state: JobState }, rerun: boolean): JobView {
    const attempt = e.attempt ?? old?.attempt ?? 1;
    const sameAttempt = old !== undefined && attempt === old.attempt && !rerun;
    const next: JobView = { ...(old ?? { id: e.jobId, eventCount: 0 }), machineId: e.machineId, workerId: e.workerId, serviceType: e.serviceType, connectorId: e.connectorId } as JobView;
    if (!sameAttempt) for (const f of ATTEMPT_FIELDS) delete next[f];
    next.state = e.state;
    next.attempt = attempt;
    // The entry carries the record's progress; it has none when the attempt has none yet.
    const progress = e.progress ?? (e.state === 'completed' ? 100 : sameAttempt ? old.progress : undefined);
    if (progress !== undefined) next.progress = progress;
    if (e.eventType === 'job.received' && next.receivedAt === undefined) next.receivedAt = e.time;
    // Only a start seen for this attempt: a progress entry says the job runs, not since when. The
    // entry has the latest attempt's state, so a late start of an earlier attempt shows as not running.
    if (e.eventType === 'job.started' && e.state === 'running') next.startedAt = Math.min(next.startedAt ?? e.time, e.time);
    // The attempt ends with the entry that first shows a final state (a late or repeated one keeps the first).
    const ended = isFinalState(e.state) && !(sameAttempt && isFinalState(old.state));
    if (ended) {
      next.finishedAt = e.time;
      if (next.startedAt !== undefined && e.time >= next.startedAt) next.durationMs = e.time - next.startedAt;
    }
    // An older event applied late does not make the job newer (the store keeps the latest too).
    if (old === undefined || e.time >= old.updatedAt) {
      next.updatedAt = e.time;
      next.lastEventId = e.eventId;
      next.lastEventType = e.eventType;
    }
    // The job moved on: the stuck / orphaned flags of the last API read no longer hold.
    if (old?.flags) next.flags = { waitingTooLong: e.state === 'received' && sameAttempt ? old.flags.waitingTooLong : false };
    return next;
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
      // A new run: the job had ended, and the store shows it received or running again, after that end.
      const rerun =
        old !== undefined && isFinalState(old.state) && (e.state === 'received' || e.state === 'running') && e.time > (old.finishedAt ?? old.updatedAt) && (e.attempt ?? 1) <= old.attempt;
      // Sent before the API read that gave a later attempt: the row is already past it.
      if (old && !rerun && e.attempt !== undefined && e.attempt < old.attempt) return false;
      if (old) {
        if (old.state !== e.state) {
          counts[old.state] = Math.max(0, counts[old.state] - 1);
          counts[e.state]++;
        }
      } else if (e.eventType === 'job.received' && (e.attempt ?? 1) === 1) counts[e.state]++;
      jobs.set(e.jobId, merge(old, { ...e, jobId: e.jobId, state: e.state }, rerun));
      trim();
      return true;
    },
    rows: () => [...jobs.values()].sort(newestFirst).slice(0, limit),
    counts: () => ({ ...counts }),
    get applied() {
      return applied;
    },
  };
}
