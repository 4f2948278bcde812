import type { Redis } from 'ioredis';
import { statusKeys } from '../../status/status-keys.js';
import type { StatusScripts } from './status-script.js';

/**
 * Retention for the status store's indexes. Job and worker keys expire on their own (PEXPIRE
 * on every update); the sorted-set indexes cannot, so a periodic prune removes members whose
 * last update is older than the retention, with bounded work per run: at most `batchSize`
 * members per index and `indexesPerRun` per-value indexes, walking the registry with SSCAN
 * across runs.
 */

/** Options of {@link createStatusPruner}. */
export interface StatusPrunerOptions {
  redis: Redis;
  scripts: StatusScripts;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /** Jobs and workers not updated for this long are removed, ms. */
  retentionMs: number;
  /** Most members removed from one index per run. Default 1000. */
  batchSize?: number;
  /** Most per-value indexes visited per run. Default 200. */
  indexesPerRun?: number;
  /** Clock, Unix ms. Default `Date.now`. */
  now?: () => number;
}

/** What one prune run did. */
export interface PruneResult {
  /** Members removed from all indexes. */
  removed: number;
  /** Jobs removed (with their hash and timeline). */
  jobsRemoved: number;
  /** Workers removed from the registry. */
  workersRemoved: number;
  /** Indexes visited. */
  indexesVisited: number;
  /** True when some index still had expired members when the run's budget ran out. */
  more: boolean;
}

/** Runs prune passes on demand (the sink schedules them). */
export interface StatusPruner {
  /** One bounded pass; `now` overrides the clock (tests). */
  runOnce(now?: number): Promise<PruneResult>;
}

/** Creates a {@link StatusPruner}. */
export function createStatusPruner(options: StatusPrunerOptions): StatusPruner {
  const { redis, scripts, retentionMs } = options;
  const keys = statusKeys(options.prefix);
  const batchSize = options.batchSize ?? 1000;
  const indexesPerRun = options.indexesPerRun ?? 200;
  const clock = options.now ?? Date.now;
  let scanCursor = '0';

  async function pruneOne(index: string, kind: 'all' | 'workers' | 'value', cutoff: number) {
    const [removed] = await scripts.prune(index, [keys.base, cutoff, batchSize, kind]);
    return { removed, more: removed >= batchSize };
  }

  async function runOnce(now: number = clock()): Promise<PruneResult> {
    const cutoff = now - retentionMs;
    const result: PruneResult = { removed: 0, jobsRemoved: 0, workersRemoved: 0, indexesVisited: 2, more: false };
    const all = await pruneOne(keys.allJobs, 'all', cutoff);
    const workers = await pruneOne(keys.workers, 'workers', cutoff);
    result.jobsRemoved = all.removed;
    result.workersRemoved = workers.removed;
    result.removed = all.removed + workers.removed;
    result.more = all.more || workers.more;
    let visited = 0;
    do {
      const [next, batch] = await redis.sscan(keys.indexRegistry, scanCursor, 'COUNT', 100);
      scanCursor = next;
      for (const index of batch) {
        const r = await pruneOne(index, 'value', cutoff);
        result.removed += r.removed;
        result.more ||= r.more;
        visited += 1;
      }
    } while (scanCursor !== '0' && visited < indexesPerRun);
    result.indexesVisited += visited;
    result.more ||= scanCursor !== '0';
    return result;
  }

  return { runOnce };
}
