import type { JobRecord } from '../status/types.js';
import { percentile } from '../insights/percentile.js';

/** How long a job may go without an event before it counts as stuck. */
export interface StuckThresholdOptions {
  /** Default threshold, ms (`STUCK_THRESHOLD_MS`). Default 600000 (10 min). */
  defaultMs?: number;
  /** Per-service thresholds, ms (`STUCK_THRESHOLDS`, `STUCK_THRESHOLD_<SERVICE>_MS`); win over learned ones. */
  byService?: Record<string, number>;
  /** Completed jobs of a service needed before a threshold is learned. Default 20. */
  minSamples?: number;
  /** Learned threshold = p99 duration × this. Default 3. */
  learnedMultiplier?: number;
  /** Floor of a learned threshold, ms, so fast services do not flag every pause. Default 30000. */
  minLearnedMs?: number;
}

/** Where a service's threshold came from. */
export type ThresholdSource = 'configured' | 'learned' | 'default';

/** Default stuck threshold: 10 minutes. */
export const DEFAULT_STUCK_THRESHOLD_MS = 600_000;

/**
 * Learns per-service thresholds from recently completed jobs (p99 of their durations × a
 * multiplier, where there are enough of them) and resolves the threshold of any service:
 * configured, else learned, else the default.
 */
export function createStuckThresholds(options: StuckThresholdOptions = {}) {
  const defaultMs = options.defaultMs ?? DEFAULT_STUCK_THRESHOLD_MS;
  const configured = options.byService ?? {};
  const minSamples = options.minSamples ?? 20;
  const multiplier = options.learnedMultiplier ?? 3;
  const floorMs = options.minLearnedMs ?? 30_000;
  let learned = new Map<string, number>();

  return {
    /** Replaces the learned thresholds with ones computed from `completed` jobs. */
    learn(completed: readonly JobRecord[]): void {
      const durations = new Map<string, number[]>();
      for (const job of completed) {
        if (job.state !== 'completed' || job.durationMs === undefined) continue;
        const list = durations.get(job.serviceType) ?? [];
        list.push(job.durationMs);
        durations.set(job.serviceType, list);
      }
      const next = new Map<string, number>();
      for (const [service, list] of durations) {
        if (list.length < minSamples) continue;
        next.set(service, Math.max(floorMs, Math.round(percentile(list, 99)! * multiplier)));
      }
      learned = next;
    },
    /** The threshold of `serviceType`, ms. */
    forService(serviceType: string): number {
      return configured[serviceType] ?? learned.get(serviceType) ?? defaultMs;
    },
    /** Where the threshold of `serviceType` comes from. */
    sourceOf(serviceType: string): ThresholdSource {
      if (configured[serviceType] !== undefined) return 'configured';
      return learned.has(serviceType) ? 'learned' : 'default';
    },
    /** Every known service's threshold, plus `default`. */
    all(): Record<string, number> {
      const out: Record<string, number> = { default: defaultMs };
      for (const [s, ms] of learned) out[s] = ms;
      for (const [s, ms] of Object.entries(configured)) out[s] = ms;
      return out;
    },
  };
}

/** The thresholds object returned by {@link createStuckThresholds}. */
export type StuckThresholds = ReturnType<typeof createStuckThresholds>;
