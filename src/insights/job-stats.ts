import type { JobRecord, JobState } from '../status/types.js';
import { percentile } from './percentile.js';

/** One time bucket of the stats chart. */
export interface StatsBucket {
  /** Bucket start, Unix ms. */
  t: number;
  completed: number;
  failed: number;
  p50DurationMs?: number;
  costUsd: number;
}

/** Throughput, latency, errors, queue wait and cost over a window. */
export interface JobStats {
  windowMs: number;
  buckets: StatsBucket[];
  throughputPerMin: number;
  /**
   * The time throughput is over, in ms: the window, or less when the jobs read cover less of it
   * (the read was capped, or the store's data begins inside the window, as on a fresh install).
   */
  throughputSpanMs: number;
  durationMs: { p50?: number; p95?: number };
  /** failed / (completed + failed); 0 when nothing finished. */
  errorRate: number;
  queueWaitMs: { p50?: number; p95?: number };
  costUsd: { total: number; byModel: Record<string, number>; byService: Record<string, number> };
  jobsByState: Partial<Record<JobState, number>>;
  /** Jobs read for these figures, and whether the read stopped at its cap. */
  scanned: number;
  capped: boolean;
}

/** Most buckets in a stats answer. */
export const MAX_BUCKETS = 60;

function add(record: Record<string, number>, key: string, value: number): void {
  record[key] = (record[key] ?? 0) + value;
}

interface Accumulator {
  buckets: StatsBucket[];
  bucketDurations: number[][];
  durations: number[];
  waits: number[];
  cost: JobStats['costUsd'];
  completed: number;
  failed: number;
}

function accumulate(acc: Accumulator, job: JobRecord, bucketIndex: number): void {
  const bucket = acc.buckets[bucketIndex]!;
  if (job.queueWaitMs !== undefined) acc.waits.push(job.queueWaitMs);
  const usd = job.ai?.costUsd ?? 0;
  if (usd > 0) {
    acc.cost.total += usd;
    bucket.costUsd += usd;
    add(acc.cost.byModel, job.ai?.model ?? 'unknown', usd);
    add(acc.cost.byService, job.serviceType, usd);
  }
  if (job.state === 'completed') {
    acc.completed++;
    bucket.completed++;
    if (job.durationMs !== undefined) {
      acc.durations.push(job.durationMs);
      acc.bucketDurations[bucketIndex]!.push(job.durationMs);
    }
  } else if (job.state === 'failed') {
    acc.failed++;
    bucket.failed++;
  }
}

/**
 * Computes {@link JobStats} from the jobs updated in `[toMs - windowMs, toMs]`. Only finished
 * jobs (completed / failed) count towards throughput, duration and error rate; every job's
 * cost and queue wait count. `dataFromMs` is where the store's data begins (its oldest job's
 * update, StatusReader.oldestUpdatedAt), when known.
 */
export function computeJobStats(
  jobs: readonly JobRecord[],
  window: { windowMs: number; toMs: number; capped: boolean; dataFromMs?: number },
  jobsByState: Partial<Record<JobState, number>>,
): JobStats {
  const { windowMs, toMs } = window;
  const fromMs = toMs - windowMs;
  const bucketMs = Math.max(1, Math.ceil(windowMs / MAX_BUCKETS));
  const count = Math.min(MAX_BUCKETS, Math.ceil(windowMs / bucketMs));
  const acc: Accumulator = {
    buckets: Array.from({ length: count }, (_, i) => ({ t: fromMs + i * bucketMs, completed: 0, failed: 0, costUsd: 0 })),
    bucketDurations: Array.from({ length: count }, () => []),
    durations: [],
    waits: [],
    cost: { total: 0, byModel: {}, byService: {} },
    completed: 0,
    failed: 0,
  };
  for (const job of jobs) {
    const at = job.finishedAt ?? job.updatedAt;
    accumulate(acc, job, Math.min(count - 1, Math.max(0, Math.floor((at - fromMs) / bucketMs))));
  }
  acc.buckets.forEach((b, i) => {
    const p50 = percentile(acc.bucketDurations[i]!, 50);
    if (p50 !== undefined) b.p50DurationMs = p50;
  });
  const finished = acc.completed + acc.failed;
  const spanMs = throughputSpan(jobs, window);
  return {
    windowMs,
    buckets: acc.buckets,
    throughputPerMin: finished / (spanMs / 60_000),
    throughputSpanMs: spanMs,
    durationMs: { p50: percentile(acc.durations, 50), p95: percentile(acc.durations, 95) },
    errorRate: finished === 0 ? 0 : acc.failed / finished,
    queueWaitMs: { p50: percentile(acc.waits, 50), p95: percentile(acc.waits, 95) },
    costUsd: acc.cost,
    jobsByState,
    scanned: jobs.length,
    capped: window.capped,
  };
}

/**
 * The time the jobs read cover, for their rate: a rate over the whole window would read low by as
 * much of it as holds no data.
 * - Capped, the jobs read are the newest of the window only: since the oldest update among them.
 * - When the store holds nothing updated before the window (a fresh install, or a retention
 *   shorter than the window), every job it holds is in the read: since the earliest time the
 *   store recorded of them (a receive; an update when there is none). Not an enqueue time: that
 *   is the producer's, and a backlog, a delayed job or a long retry would put it hours back.
 *   When the store holds older jobs, a quiet start of the window is real and counts.
 * At least a second, at most the window. (A loop, not Math.min(...): that overflows the stack
 * past ≈ 120k jobs, and JOBSCOPE_INSIGHTS_MAX_JOBS allows a million.)
 */
function throughputSpan(jobs: readonly JobRecord[], window: { windowMs: number; toMs: number; capped: boolean; dataFromMs?: number }): number {
  const { windowMs, toMs } = window;
  if (jobs.length === 0) return windowMs;
  let from = toMs - windowMs;
  const fresh = !window.capped && window.dataFromMs !== undefined && window.dataFromMs > from;
  if (window.capped || fresh) {
    from = Infinity;
    for (const j of jobs) {
      const t = window.capped ? j.updatedAt : (j.receivedAt ?? j.updatedAt);
      if (t < from) from = t;
    }
  }
  return Math.min(windowMs, Math.max(1000, toMs - from));
}
