/**
 * Reading how long Sentry asks us to wait: the `Retry-After` header (seconds or an HTTP
 * date) and `X-Sentry-Rate-Limits` (`<seconds>:<categories>:<scope>[:…], …`, see
 * https://develop.sentry.dev/sdk/expected-features/rate-limiting/).
 */

/** Wait when Sentry answers 429 without saying how long, in ms (Sentry's documented default). */
export const DEFAULT_RATE_LIMIT_MS = 60_000;

/** `Retry-After` in ms, or `undefined` when absent or unreadable. */
export function parseRetryAfterMs(header: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * The wait `X-Sentry-Rate-Limits` imposes on `category` (default `error`), in ms: the longest
 * limit whose categories are empty (all) or include it. `undefined` when none applies.
 */
export function parseSentryRateLimitsMs(header: string | null | undefined, category = 'error'): number | undefined {
  if (!header) return undefined;
  let longest: number | undefined;
  for (const limit of header.split(',')) {
    const [seconds, categories = ''] = limit.trim().split(':');
    const s = Number(seconds);
    if (!Number.isFinite(s)) continue;
    const list = categories.split(';').filter((c) => c.length > 0);
    if (list.length === 0 || list.includes(category) || list.includes('default')) {
      longest = Math.max(longest ?? 0, s * 1000);
    }
  }
  return longest;
}

/** How long to wait after an answer with these headers; rate-limit header first, as Sentry's SDKs do. */
export function retryAfterFromHeaders(headers: Record<string, string | null | undefined>, statusCode: number): number | undefined {
  const limits = parseSentryRateLimitsMs(headers['x-sentry-rate-limits']);
  if (limits !== undefined) return limits;
  const retryAfter = parseRetryAfterMs(headers['retry-after']);
  if (retryAfter !== undefined) return retryAfter;
  return statusCode === 429 ? DEFAULT_RATE_LIMIT_MS : undefined;
}
