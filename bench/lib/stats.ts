/**
 * Measurement statistics shared by the benchmarks: min/median/max over rounds, and latency
 * percentiles over samples.
 */

/** min / median / max of one figure over the rounds, with every run kept. */
export interface Summary {
  min: number;
  median: number;
  max: number;
  /** Every run's value, in run order. */
  runs: number[];
}

/** Latency percentiles of a set of samples, in ms. */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The value at percentile `p` (0-100) of an ascending array (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** The median of `xs` (mean of the two middle values for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** min / median / max of the runs. */
export function summarize(runs: readonly number[]): Summary {
  const s = [...runs].sort((a, b) => a - b);
  return { min: s[0] ?? Number.NaN, median: median(s), max: s.at(-1) ?? Number.NaN, runs: [...runs] };
}

/** p50 / p99 / max of latency samples in ms. */
export function latencySummary(samplesMs: readonly number[]): LatencySummary {
  const s = Float64Array.from(samplesMs).sort();
  const arr = Array.from(s);
  return { count: arr.length, p50Ms: percentile(arr, 50), p99Ms: percentile(arr, 99), maxMs: arr.at(-1) ?? Number.NaN };
}

/** Per-round ratios `ours[i] / anchor[i]` (paired: same round, same conditions). */
export function pairedRatios(ours: readonly number[], anchor: readonly number[]): number[] {
  return ours.map((v, i) => v / anchor[i]!);
}
