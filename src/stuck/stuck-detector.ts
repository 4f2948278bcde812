import type { Registry } from 'prom-client';
import type { JobRecord, JobState, StatusReader, WorkerLiveness } from '../status/types.js';
import { scanJobWindow } from '../insights/job-window.js';
import { createStuckMetrics, type StuckMetrics } from './stuck-metrics.js';
import { createStuckThresholds, type StuckThresholdOptions } from './stuck-thresholds.js';
import { livenessByWorker, workerKey } from './worker-liveness.js';

/** Options of the periodic stuck / orphaned / waiting detector. */
export interface StuckDetectorOptions {
  reader: StatusReader;
  /** Stuck thresholds (default 10 min; per-service; learned from recent durations). */
  thresholds?: StuckThresholdOptions;
  /** A job `received` but not running longer than this is waitingTooLong, ms. Default 300000. */
  queueWaitThresholdMs?: number;
  /** Pass interval, ms. Default 15000. */
  intervalMs?: number;
  /** Most jobs scanned per state index (`running`, `received`) per pass. Default 5000. */
  maxJobsPerState?: number;
  /** Window of completed jobs thresholds are learned from, ms. Default 3600000. */
  learnWindowMs?: number;
  /** Most completed jobs read to learn thresholds. Default 2000. */
  learnMaxJobs?: number;
  /** Registry for the read-side gauges; none = no gauges. */
  registry?: Registry;
  /** Clock, Unix ms. Default `Date.now`. */
  now?: () => number;
  /** Called when a pass fails; the loop keeps going. */
  onError?: (err: unknown) => void;
}

/** Flags of one job. */
export interface JobFlags {
  stuck?: boolean;
  orphaned?: boolean;
  waitingTooLong?: boolean;
}

/** The result of one pass. */
export interface StuckSnapshot {
  /** Unix ms of the pass. */
  at: number;
  stuck: JobRecord[];
  orphaned: JobRecord[];
  waitingTooLong: JobRecord[];
  /** Threshold per service, ms, plus `default`. */
  thresholds: Record<string, number>;
  /** True when a state index held more jobs than `maxJobsPerState`: only the newest were checked. */
  capped: boolean;
}

const EMPTY: StuckSnapshot = { at: 0, stuck: [], orphaned: [], waitingTooLong: [], thresholds: {}, capped: false };

/** Reads up to `max` jobs of one state index. */
async function jobsInState(reader: StatusReader, state: JobState, max: number) {
  return scanJobWindow(reader, { filter: { state }, fromMs: 0, toMs: Number.MAX_SAFE_INTEGER, maxJobs: max });
}

/**
 * Finds stuck jobs (running/received, silent past their service's threshold), orphaned jobs
 * (their worker is dead or stopped) and jobs waiting too long (received, not started), from
 * the `running`/`received` state indexes only, bounded. Keeps the last pass so flags and
 * `/api/stuck` are cheap, and updates the read-side gauges. Event silence fires long before
 * BullMQ's stalled check, which waits for the job lock to expire.
 */
export function createStuckDetector(options: StuckDetectorOptions) {
  const { reader } = options;
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 15_000;
  const maxPerState = options.maxJobsPerState ?? 5000;
  const queueWaitMs = options.queueWaitThresholdMs ?? 300_000;
  const thresholds = createStuckThresholds(options.thresholds);
  const metrics: StuckMetrics | undefined = options.registry ? createStuckMetrics(options.registry) : undefined;
  let snapshot = EMPTY;
  let flags = new Map<string, JobFlags>();
  let inFlight: Promise<StuckSnapshot> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let started = false;

  async function learn(t: number): Promise<void> {
    const window = await scanJobWindow(reader, {
      filter: { state: 'completed' },
      fromMs: t - (options.learnWindowMs ?? 3_600_000),
      toMs: t,
      maxJobs: options.learnMaxJobs ?? 2000,
    });
    thresholds.learn(window.jobs);
  }

  async function pass(): Promise<StuckSnapshot> {
    const t = now();
    await learn(t);
    const [running, received, workers, jobsByState] = await Promise.all([
      jobsInState(reader, 'running', maxPerState),
      jobsInState(reader, 'received', maxPerState),
      reader.listWorkers(),
      reader.countByState(),
    ]);
    const liveness = livenessByWorker(workers);
    const next: StuckSnapshot = { at: t, stuck: [], orphaned: [], waitingTooLong: [], thresholds: {}, capped: running.capped || received.capped };
    const nextFlags = new Map<string, JobFlags>();
    const flag = (job: JobRecord, f: keyof JobFlags) => nextFlags.set(job.id, { ...nextFlags.get(job.id), [f]: true });
    for (const job of [...running.jobs, ...received.jobs]) {
      if (t - job.updatedAt > thresholds.forService(job.serviceType)) {
        next.stuck.push(job);
        flag(job, 'stuck');
      }
      const l = liveness.get(workerKey(job.machineId, job.workerId));
      if (l === 'dead' || l === 'stopped') {
        next.orphaned.push(job);
        flag(job, 'orphaned');
      }
      if (job.state === 'received' && t - (job.receivedAt ?? job.updatedAt) > queueWaitMs) {
        next.waitingTooLong.push(job);
        flag(job, 'waitingTooLong');
      }
    }
    next.thresholds = thresholds.all();
    const workerCounts: Record<WorkerLiveness, number> = { busy: 0, idle: 0, dead: 0, stopped: 0 };
    for (const l of liveness.values()) workerCounts[l]++;
    metrics?.update({ ...next, workers: workerCounts, jobsByState });
    snapshot = next;
    flags = nextFlags;
    return next;
  }

  function refresh(): Promise<StuckSnapshot> {
    inFlight ??= pass().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  function tick(): void {
    if (closed) return;
    refresh()
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        if (!closed) timer = setTimeout(tick, intervalMs).unref();
      });
  }

  return {
    /** Starts the periodic pass (first one now). Idempotent. */
    start(): void {
      if (started || closed) return;
      started = true;
      tick();
    },
    /** Runs a pass now (joins one already running). */
    refresh,
    /** The last pass, refreshed first when older than `maxAgeMs` (default: the interval). */
    async current(maxAgeMs = intervalMs): Promise<StuckSnapshot> {
      if (now() - snapshot.at > maxAgeMs) return refresh();
      return snapshot;
    },
    /** Flags of `jobId` from the last pass; undefined when none. */
    flagsFor(jobId: string): JobFlags | undefined {
      return flags.get(jobId);
    },
    /** Stops the loop. Idempotent. */
    close(): void {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** The detector returned by {@link createStuckDetector}. */
export type StuckDetector = ReturnType<typeof createStuckDetector>;
