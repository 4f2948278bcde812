import type { Redis } from 'ioredis';
import type { GapReporter, DetectedGap } from './gap-reporter.js';
import type { SequenceKeys } from './sequence-keys.js';
import type { SequenceMetrics } from './sequence-metrics.js';
import { parseSeqReply, type SequenceScripts } from './sequence-script.js';

/**
 * The periodic half of the sequence check: finds producers whose oldest open hole is older than
 * the grace period, declares those holes lost (Lua, atomic: two pipeline processes never report
 * one gap twice), reports them, prunes old entries of the gapped index and sets the
 * `jobscope_producers_with_gaps` gauge.
 */

/** Options of {@link createGapChecker}. */
export interface GapCheckerOptions {
  redis: Redis;
  keys: SequenceKeys;
  scripts: SequenceScripts;
  metrics: SequenceMetrics;
  report: GapReporter;
  /** A hole open this long is declared lost, ms. */
  graceMs: number;
  /** TTL of the per-producer keys, seconds. */
  ttlSeconds: number;
  /** Gap ranges kept per producer. */
  gapListMax: number;
  /** Producers settled per run (the rest wait for the next run). */
  producersPerRun: number;
  /** Clock, Unix ms. */
  now: () => number;
}

/** What one check run found. */
export interface GapCheckResult {
  /** Producers whose holes were old enough to settle. */
  checked: number;
  /** Gaps declared in this run. */
  gaps: DetectedGap[];
  /** Producers with a detected gap within the retention, after this run. */
  producersWithGaps: number;
}

/** Runs one check on demand. */
export type GapChecker = (now?: number) => Promise<GapCheckResult>;

/** Creates a {@link GapChecker}. */
export function createGapChecker(o: GapCheckerOptions): GapChecker {
  return async (now = o.now()) => {
    const cutoff = now - o.graceMs;
    const due = await o.redis.zrangebyscore(o.keys.holes, '-inf', cutoff, 'LIMIT', 0, o.producersPerRun);
    const gaps: DetectedGap[] = [];
    if (due.length > 0) {
      const pipeline = o.redis.pipeline();
      for (const p of due) o.scripts.settle(pipeline, p, [now, cutoff, o.ttlSeconds, o.gapListMax, p]);
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([err, raw], i) => {
        if (err) throw err;
        gaps.push(...o.report(due[i]!, parseSeqReply(raw)));
      });
    }
    await o.redis.zremrangebyscore(o.keys.gapped, '-inf', now - o.ttlSeconds * 1000);
    const producersWithGaps = await o.redis.zcard(o.keys.gapped);
    o.metrics.producersWithGaps.set(producersWithGaps);
    return { checked: due.length, gaps, producersWithGaps };
  };
}
