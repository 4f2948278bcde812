import type { AiUsage } from '../events/index.js';
import type { UsageReport } from '../../connectors/connector.js';

/**
 * Merges the usage a connector reports over one attempt: counts add up (a connector may report
 * per chunk), names and time to first token are replaced. Bad numbers are dropped, not thrown:
 * a connector bug must not fail the job.
 */
export interface UsageAccumulator {
  add(report: UsageReport): void;
  /** The merged usage, or undefined when nothing was reported. */
  get(): AiUsage | undefined;
}

const COUNTS = ['inputTokens', 'outputTokens', 'cachedTokens', 'reasoningTokens'] as const;

/** Creates an empty accumulator (a class: one per job, and most jobs report nothing). */
export function createUsageAccumulator(): UsageAccumulator {
  return new Accumulator();
}

class Accumulator implements UsageAccumulator {
  private usage: AiUsage | undefined;

  add(r: UsageReport): void {
    const u: AiUsage = this.usage ?? {};
    if (typeof r.model === 'string' && r.model.length > 0) u.model = r.model.slice(0, 256);
    if (typeof r.provider === 'string' && r.provider.length > 0) u.provider = r.provider.slice(0, 64);
    for (const k of COUNTS) {
      const v = r[k];
      if (isCount(v)) u[k] = (u[k] ?? 0) + Math.round(v);
    }
    if (isCount(r.gpuSeconds)) u.gpuSeconds = (u.gpuSeconds ?? 0) + r.gpuSeconds;
    if (isCount(r.timeToFirstTokenMs)) u.timeToFirstTokenMs = r.timeToFirstTokenMs;
    this.usage = u;
  }

  get(): AiUsage | undefined {
    return this.usage ? { ...this.usage } : undefined;
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
