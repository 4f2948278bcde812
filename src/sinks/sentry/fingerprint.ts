import type { EventOf } from '../../events/index.js';
import type { FingerprintPart } from '../../config/sentry-config.js';

/** Default fingerprint: group by service, error category and normalized message. */
export const DEFAULT_FINGERPRINT: readonly FingerprintPart[] = ['service', 'category', 'message'];

/** Longest normalized message kept in a fingerprint, in characters. */
const MAX_MESSAGE_CHARS = 200;

/**
 * Replaces what varies between two occurrences of the same failure (uuids, hex ids, numbers,
 * quoted strings, URLs' query strings) with placeholders, so they group as one issue:
 * `job 4f2a… timed out after 30000 ms` → `job <hex> timed out after <n> ms`.
 */
export function normalizeMessage(message: string): string {
  return message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    // Single quotes only around a word boundary, so "can't … isn't" is not taken as a string.
    .replace(/"[^"]*"|(?<!\w)'[^']*'(?!\w)|`[^`]*`/g, '<str>')
    .replace(/\b0x[0-9a-f]+\b/gi, '<hex>')
    .replace(/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hex>')
    .replace(/\d+(\.\d+)?/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_MESSAGE_CHARS);
}

/** The fingerprint of a failure, built from the configured parts in order. */
export function buildFingerprint(event: EventOf<'job.failed'>, parts: readonly FingerprintPart[] = DEFAULT_FINGERPRINT): string[] {
  const e = event.data.error;
  const value: Record<FingerprintPart, () => string> = {
    service: () => event.source.serviceType,
    category: () => e.category,
    type: () => e.type,
    message: () => normalizeMessage(e.message),
    queue: () => event.job.queue ?? '-',
    name: () => event.job.name ?? '-',
    connector: () => event.source.connectorId,
    model: () => event.ai?.model ?? '-',
  };
  return parts.map((p) => value[p]());
}
