import type { Redis } from 'ioredis';
import { decodeEntryEvents, eventStreamKey, type JobscopeEvent } from '../../../src/events/index.js';

/**
 * Every event of a prefix's (single) stream, in stream order, packed entries expanded into
 * their events; throws on an invalid entry or event.
 */
export async function readEvents(redis: Redis, prefix: string): Promise<JobscopeEvent[]> {
  const entries = await redis.xrange(eventStreamKey({ prefix }), '-', '+');
  return entries.flatMap(([id, fields]) => {
    const r = decodeEntryEvents(fields);
    if (!r.ok) throw new Error(`entry ${id} is invalid: ${r.reason}`);
    return r.parts.map((p, i) => {
      if (!p.ok) throw new Error(`entry ${id} event ${i} is invalid: ${p.reason}`);
      return p.event;
    });
  });
}

/** Captures pino lines written to it. */
export function lineCapture(): { lines: Record<string, unknown>[]; write: (s: string) => void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
}
