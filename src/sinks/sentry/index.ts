export { createSentrySink, type SentrySink, type SentrySinkOptions, type SentrySinkStats } from './sentry-sink.js';
export { buildFingerprint, normalizeMessage, DEFAULT_FINGERPRINT } from './fingerprint.js';
export { sentryEventId } from './sentry-event.js';
export { parseRetryAfterMs, parseSentryRateLimitsMs } from './rate-limits.js';
