import type { JobscopeEvent } from '../events/index.js';
import type { Sink } from '../sinks/sink.js';
import type { HeldEntry } from './batch-decoder.js';

/**
 * One sink write, normalized: which held events the backend confirmed, which it rejected for
 * good (with the reason), which are left to retry, and the result label of
 * `jobscope_sink_writes_total`. A throw counts as a retryable failure of the whole batch.
 * It speaks of events only: which entries may then be acknowledged is the sink loop's call
 * (an event of a packed entry confirmed does not settle the entry).
 */

/** What one write achieved, per event. */
export interface WriteOutcome<H extends { event: JobscopeEvent } = HeldEntry> {
  confirmed: H[];
  rejected: { held: H; reason: string }[];
  remaining: H[];
  /** Set when something is left to retry. */
  retry?: { reason: string; retryAfterMs?: number };
  result: 'ok' | 'retry' | 'error' | 'partial';
  durationSeconds: number;
}

/** Writes the events of `batch` to `sink` and sorts them by what the backend said. */
export async function writeBatch<H extends { event: JobscopeEvent } = HeldEntry>(sink: Sink, batch: readonly H[], signal: AbortSignal): Promise<WriteOutcome<H>> {
  const started = process.hrtime.bigint();
  const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
  let result;
  try {
    result = await sink.write(
      batch.map((h) => h.event),
      signal,
    );
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { confirmed: [], rejected: [], remaining: [...batch], retry: { reason }, result: 'error', durationSeconds: seconds() };
  }
  const rejectedReasons = new Map((result.rejected ?? []).map((r) => [r.eventId, r.reason]));
  const confirmedIds = result.status === 'retry' ? new Set(result.confirmedIds ?? []) : undefined;
  const out: WriteOutcome<H> = { confirmed: [], rejected: [], remaining: [], result: 'ok', durationSeconds: seconds() };
  for (const held of batch) {
    const reason = rejectedReasons.get(held.event.id);
    if (reason !== undefined) out.rejected.push({ held, reason });
    else if (confirmedIds === undefined || confirmedIds.has(held.event.id)) out.confirmed.push(held);
    else out.remaining.push(held);
  }
  if (result.status === 'retry') {
    out.retry = result.retryAfterMs === undefined ? { reason: result.reason } : { reason: result.reason, retryAfterMs: result.retryAfterMs };
    out.result = out.confirmed.length + out.rejected.length > 0 ? 'partial' : 'retry';
  }
  return out;
}
