/**
 * Ratio sampling decided from the trace id alone, so every pipeline process (and every
 * redelivery) takes the same decision for the same trace without coordination. Uses the
 * last 56 bits of the id, which W3C trace context level 2 defines as random.
 */
export function sampledByRatio(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  const low = parseInt(traceId.slice(-14), 16);
  return low / 2 ** 56 < ratio;
}
