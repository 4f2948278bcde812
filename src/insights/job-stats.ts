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
 * cost and queue wait count.
 */
export function computeJobStats(
  jobs: readonly JobRecord[],
  window: { windowMs: number; toMs: number; capped: boolean },
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
  // Capped, the jobs read are the newest of the window only: their rate is over the time they
  // cover, not over the whole window (which would read low by as much as was left unread).
  let spanMs = windowMs;
  if (window.capped && jobs.length > 0) spanMs = Math.min(windowMs, Math.max(1000, toMs - Math.min(...jobs.map((j) => j.updatedAt))));
  return {
    windowMs,
    buckets: acc.buckets,
    throughputPerMin: finished / (spanMs / 60_000),
    durationMs: { p50: percentile(acc.durations, 50), p95: percentile(acc.durations, 95) },
    errorRate: finished === 0 ? 0 : acc.failed / finished,
    queueWaitMs: { p50: percentile(acc.waits, 50), p95: percentile(acc.waits, 95) },
    costUsd: acc.cost,
    jobsByState,
    scanned: jobs.length,
    capped: window.capped,
  };
}
