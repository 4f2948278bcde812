/** Options of {@link createLabelLimiter}. */
export interface LabelLimiterOptions {
  /** Most distinct values kept for this label; later new values become `other`. Default 200. */
  maxValues?: number;
  /** Called once per value mapped to `other` (to count the overflow). */
  onOverflow?: () => void;
}

/** The value an overflowing label takes. */
export const OVERFLOW_LABEL = 'other';

/**
 * Bounds the cardinality of one label: the first `maxValues` distinct values pass, later new
 * ones are bucketed as `other`, so a producer sending a fresh model name per job cannot grow
 * Prometheus without limit.
 */
export function createLabelLimiter(options: LabelLimiterOptions = {}): (value: string) => string {
  const maxValues = options.maxValues ?? 200;
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size < maxValues) {
      seen.add(value);
      return value;
    }
    options.onOverflow?.();
    return OVERFLOW_LABEL;
  };
}
