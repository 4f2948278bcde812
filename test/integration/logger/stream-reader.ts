import type { Redis } from 'ioredis';
import { decodeEntry, eventStreamKey, type JobscopeEvent } from '../../../src/events/index.js';

/** Every event of a prefix's (single) stream, in stream order; throws on an invalid entry. */
export async function readEvents(redis: Redis, prefix: string): Promise<JobscopeEvent[]> {
  const entries = await redis.xrange(eventStreamKey({ prefix }), '-', '+');
  return entries.map(([id, fields]) => {
    const r = decodeEntry(fields);
    if (!r.ok) throw new Error(`entry ${id} is invalid: ${r.reason}`);
    return r.event;
  });
}

/** Captures pino lines written to it. */
export function lineCapture(): { lines: Record<string, unknown>[]; write: (s: string) => void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
}
