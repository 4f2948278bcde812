import type { DeliveryAnswer } from './delivery-transport.js';
import { retryAfterFromHeaders } from './rate-limits.js';

/** What one event's delivery means for the sink. */
export type DeliveryVerdict =
  | { kind: 'ok' }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'rejected'; reason: string };

/**
 * Reads Sentry's answer: 2xx = stored; 429, 5xx and no answer = try again (after the wait it
 * asked for); any other 4xx = it will never take this event (400 invalid, 413 too large),
 * so it goes to the dead letters with Sentry's own explanation.
 */
export function verdictOf(answer: DeliveryAnswer): DeliveryVerdict {
  const code = answer.statusCode;
  if (code === undefined) return { kind: 'retry', reason: `Sentry not reached: ${answer.error ?? 'no answer'}` };
  if (code >= 200 && code < 300) return { kind: 'ok' };
  const retryAfterMs = retryAfterFromHeaders({ 'retry-after': answer.retryAfter, 'x-sentry-rate-limits': answer.rateLimits }, code);
  const detail = answer.detail?.trim() ? `: ${answer.detail.trim().slice(0, 200)}` : '';
  if (code === 429 || code >= 500 || code === 408) {
    return { kind: 'retry', reason: `Sentry answered HTTP ${code}${detail}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  return { kind: 'rejected', reason: `Sentry refused the event with HTTP ${code}${detail}` };
}
