import { createHash } from 'node:crypto';

/**
 * Deterministic span ids for the children of an attempt span: the same attempt span id and
 * child name always give the same id, so a redelivered terminal event re-exports identical
 * spans (a backend can de-duplicate them) instead of a second, parallel tree.
 */
export function childSpanId(attemptSpanId: string, name: string): string {
  const hex = createHash('sha256').update(`${attemptSpanId}:${name}`).digest('hex').slice(0, 16);
  // An all-zero span id is invalid in W3C trace context; astronomically unlikely, still handled.
  return /^0+$/.test(hex) ? '0000000000000001' : hex;
}
