import { createHash } from 'node:crypto';
import type { JobRecord } from '../status/types.js';

/** One group of failures that share a fingerprint. */
export interface ErrorGroup {
  fingerprint: string;
  serviceType: string;
  errorType: string;
  category: string;
  /** The message with ids, numbers and quoted values replaced by placeholders. */
  message: string;
  /** Jobs whose last error falls in this group. */
  count: number;
  /** Unix ms. */
  firstSeen: number;
  lastSeen: number;
  /** The most recent job of the group. */
  exampleJobId: string;
}

/** Longest normalized message kept, in characters. */
export const MAX_NORMALIZED_MESSAGE_CHARS = 300;

/**
 * Normalizes an error message so that failures differing only in ids, numbers, URLs or
 * quoted values group together.
 */
export function normalizeErrorMessage(message: string): string {
  return message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>')
    .replace(/https?:\/\/\S+/g, '<url>')
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '<str>')
    .replace(/\b0x[0-9a-f]+\b|\b[0-9a-f]{12,}\b/gi, '<hex>')
    .replace(/\d+(\.\d+)?/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_NORMALIZED_MESSAGE_CHARS);
}

/** The fingerprint of a failure: service, error type, category and normalized message. */
export function errorFingerprint(serviceType: string, errorType: string, category: string, normalized: string): string {
  return createHash('sha1').update(`${serviceType}\n${errorType}\n${category}\n${normalized}`).digest('hex').slice(0, 16);
}

/**
 * Groups jobs by the fingerprint of their last error; jobs without an error, and cancelled ones, are skipped.
 * Bounded by `maxGroups` (default 500): the largest groups are kept. Sorted by count, then
 * by recency.
 */
export function groupErrors(jobs: readonly JobRecord[], maxGroups = 500): ErrorGroup[] {
  const groups = new Map<string, ErrorGroup>();
  for (const job of jobs) {
    const err = job.lastError;
    // A cancelled job's last error is its cancellation (the reason it was given): not a failure.
    if (!err || job.state === 'cancelled') continue;
    const seen = job.finishedAt ?? job.updatedAt;
    const message = normalizeErrorMessage(err.message);
    const fingerprint = errorFingerprint(job.serviceType, err.type, err.category, message);
    const g = groups.get(fingerprint);
    if (!g) {
      groups.set(fingerprint, {
        fingerprint,
        serviceType: job.serviceType,
        errorType: err.type,
        category: err.category,
        message,
        count: 1,
        firstSeen: seen,
        lastSeen: seen,
        exampleJobId: job.id,
      });
      continue;
    }
    g.count++;
    if (seen < g.firstSeen) g.firstSeen = seen;
    if (seen >= g.lastSeen) {
      g.lastSeen = seen;
      g.exampleJobId = job.id;
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen).slice(0, maxGroups);
}
