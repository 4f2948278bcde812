/**
 * A complete custom sink in one file: it POSTs each batch as NDJSON (one event per line) to a
 * webhook. Copy it as a starting point for your own backend; see ./README.md for how it is
 * registered with the pipeline (it gets its own consumer group, named after `name`).
 */
import type { JobscopeEvent } from '../../src/events/index.js';
import type { Sink, SinkWriteResult } from '../../src/sinks/sink.js';

/** Options of {@link createWebhookSink}. */
export interface WebhookSinkOptions {
  /** Where batches are POSTed. */
  url: string;
  /** Sink (and consumer group) name. Default `webhook`. */
  name?: string;
  /** Extra request headers, e.g. `{ authorization: 'Bearer …' }`. */
  headers?: Record<string, string>;
  /** Per-request deadline, in ms. Default 10,000. */
  timeoutMs?: number;
  /** Largest batch per request. Default 200. */
  maxBatchSize?: number;
}

/** Seconds or an HTTP date, as in `Retry-After`; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Creates a sink that confirms a batch when the webhook answers 2xx. 408, 429 and 5xx (and
 * network errors) mean "retry later", honouring `Retry-After`; any other 4xx means the webhook
 * will never take this batch, so its events are rejected (dead-lettered) with the answer.
 */
export function createWebhookSink(options: WebhookSinkOptions): Sink {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    name: options.name ?? 'webhook',
    maxBatchSize: options.maxBatchSize ?? 200,
    async write(events: readonly JobscopeEvent[], signal: AbortSignal): Promise<SinkWriteResult> {
      const body = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
      const res = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', ...options.headers },
        body,
        // Stop on the pipeline's shutdown deadline or our own timeout, whichever comes first.
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
      }); // a throw (network error, timeout) counts as retry for the whole batch
      const answer = `${res.status} ${(await res.text()).slice(0, 200)}`.trim();
      if (res.ok) return { status: 'ok' };
      if (res.status === 408 || res.status === 429 || res.status >= 500) {
        const after = retryAfterMs(res.headers.get('retry-after'));
        return { status: 'retry', reason: `webhook answered ${answer}`, ...(after !== undefined ? { retryAfterMs: after } : {}) };
      }
      return { status: 'ok', rejected: events.map((e) => ({ eventId: e.id, reason: `webhook refused the batch: ${answer}` })) };
    },
    async health() {
      try {
        const res = await fetch(options.url, { method: 'HEAD', signal: AbortSignal.timeout(2_000) });
        return { ok: res.status < 500, detail: `webhook ${options.url} answered ${res.status}` };
      } catch (err) {
        return { ok: false, detail: `webhook ${options.url} unreachable: ${(err as Error).message}` };
      }
    },
    close: () => Promise.resolve(),
  };
}
