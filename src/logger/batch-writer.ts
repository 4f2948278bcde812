import type { Redis } from 'ioredis';
import { ENTRY_FIELDS, SCHEMA_VERSION } from '../events/index.js';
import { TimeoutError } from '../errors.js';
import type { PendingEntry } from './event-buffer.js';

/**
 * Sends one batch of events as pipelined XADDs (one round trip). No MAXLEN: trimming belongs
 * to the pipeline, which knows what every consumer group has acknowledged.
 */

/** The outcome of one batch. */
export interface BatchResult {
  /** How many entries, from the start of the batch, Redis confirmed. */
  confirmed: number;
  /** Why the rest was not confirmed (connection lost, timeout, a Redis error reply). */
  error?: Error;
}

const VERSION = String(SCHEMA_VERSION);

/**
 * Writes `entries` with one pipeline; never rejects. Entries after the first failure count as
 * unconfirmed even if Redis took them, so a retry may duplicate them (delivery is at least
 * once; the event id is the idempotency key downstream).
 */
export async function writeBatch(redis: Redis, entries: readonly PendingEntry[], timeoutMs: number): Promise<BatchResult> {
  if (entries.length === 0) return { confirmed: 0 };
  const pipeline = redis.pipeline();
  for (const e of entries) pipeline.xadd(e.stream, '*', ENTRY_FIELDS.version, VERSION, ENTRY_FIELDS.event, e.json);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`XADD batch of ${entries.length}`, timeoutMs)), timeoutMs);
    timer.unref();
  });
  try {
    const results = await Promise.race([pipeline.exec(), timeout]);
    if (!results) return { confirmed: 0, error: new Error('pipeline was discarded') };
    let confirmed = 0;
    for (const [err] of results) {
      if (err) return { confirmed, error: err };
      confirmed++;
    }
    return { confirmed };
  } catch (err) {
    return { confirmed: 0, error: err instanceof Error ? err : new Error(String(err)) };
  } finally {
    clearTimeout(timer);
  }
}
