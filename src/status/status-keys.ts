import { DEFAULT_PREFIX } from '../events/index.js';

/**
 * Redis key names of the job-status store. Every key sits under the `{<prefix>}` hash tag, so
 * on Redis Cluster they share one slot and one Lua script may touch them all. The Lua scripts
 * in src/sinks/status/lua build the same names from the `{<prefix>}:` base: keep both in step.
 */

/** Dimensions that have one sorted-set index per value (score = the job's `updatedAt`). */
export const INDEX_DIMENSIONS = ['state', 'service', 'machine', 'worker', 'connector', 'model'] as const;
export type IndexDimension = (typeof INDEX_DIMENSIONS)[number];

/** The key names of one installation. */
export interface StatusKeys {
  /** `{p}:` — the base every key starts with (passed to the Lua scripts). */
  base: string;
  /** Hash of one job. */
  job(jobId: string): string;
  /** List of one job's timeline entries (JSON), oldest first, capped. */
  timeline(jobId: string): string;
  /** Sorted set of event ids already applied to a job (idempotency window). */
  jobSeen(jobId: string): string;
  /** Sorted set of all jobs by `updatedAt`. */
  allJobs: string;
  /** Sorted set (score 0) of all job ids, for id-prefix search with ZRANGEBYLEX. */
  jobIdsLex: string;
  /** Sorted set of the jobs of one dimension value, by `updatedAt`. */
  index(dimension: IndexDimension, value: string): string;
  /** Set of the per-value index keys that exist (what the pruner walks). */
  indexRegistry: string;
  /** Hash of one worker (`machineId/workerId`). */
  worker(workerKey: string): string;
  /** Set of the job ids a worker is running. */
  workerJobs(workerKey: string): string;
  /** Sorted set of event ids already applied to a worker. */
  workerSeen(workerKey: string): string;
  /** Sorted set of workers by last sign of life. */
  workers: string;
  /** The live-feed stream. */
  feed: string;
}

/** The key names for `prefix` (default `jobscope`). */
export function statusKeys(prefix: string = DEFAULT_PREFIX): StatusKeys {
  const base = `{${prefix}}:`;
  return {
    base,
    job: (id) => `${base}job:${id}`,
    timeline: (id) => `${base}job:${id}:tl`,
    jobSeen: (id) => `${base}job:${id}:seen`,
    allJobs: `${base}idx:all`,
    jobIdsLex: `${base}idx:lex`,
    index: (dimension, value) => `${base}idx:${dimension}:${value}`,
    indexRegistry: `${base}idx:keys`,
    worker: (w) => `${base}worker:${w}`,
    workerJobs: (w) => `${base}worker:${w}:jobs`,
    workerSeen: (w) => `${base}worker:${w}:seen`,
    workers: `${base}workers`,
    feed: `${base}feed`,
  };
}

/** The registry key of a worker: `machineId/workerId` (a worker id is unique on its machine). */
export function workerKeyOf(machineId: string, workerId: string): string {
  return `${machineId}/${workerId}`;
}
