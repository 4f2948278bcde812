import { ApiError, type ApiClient, type Query } from './api-client.js';
import { createSseParser, type SseMessage } from './sse-parser.js';

/**
 * Follows the API's SSE stream (`GET /api/stream`) for `watch` and `tail`: reconnects after a
 * drop, resuming from the last message id (`Last-Event-ID`), so nothing between is missed.
 */

/** Connection state, as the commands show it. */
export type StreamState = 'connecting' | 'live' | 'reconnecting';

/** Options of {@link followEventStream}. */
export interface FollowEventStreamOptions {
  client: ApiClient;
  /** Query of `/api/stream` (state, service, job, types). */
  query?: Query;
  /** Stops following; the returned promise then resolves. */
  signal: AbortSignal;
  onMessage(message: SseMessage): void;
  onState?(state: StreamState, detail?: string): void;
  /** Wait before reconnecting when the server sent no `retry:`, in ms. Default 2000. */
  reconnectDelayMs?: number;
}

/**
 * Follows the stream until `signal` aborts. Rejects only on an answer that retrying cannot fix
 * (400, 401, 403, 404), with an {@link ApiError} saying what to do.
 */
export async function followEventStream(options: FollowEventStreamOptions): Promise<void> {
  const { client, signal } = options;
  let lastEventId: string | undefined;
  let retryMs = options.reconnectDelayMs ?? 2000;
  let connectedOnce = false;
  while (!signal.aborted) {
    options.onState?.(connectedOnce ? 'reconnecting' : 'connecting');
    const parser = createSseParser();
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (client.token) headers.authorization = `Bearer ${client.token}`;
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      const res = await fetch(client.url('/api/stream', options.query), { headers, signal });
      if (res.status >= 400 && res.status < 500) {
        const text = await res.text();
        throw new ApiError(`The stream was refused (${res.status}): ${errorMessage(text)}${res.status === 401 ? ' Pass --token or set JOBSCOPE_API_TOKEN.' : ''}`, res.status);
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      connectedOnce = true;
      options.onState?.('live');
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const message of parser.push(decoder.decode(chunk, { stream: true }))) {
          if (message.id !== undefined) lastEventId = message.id;
          options.onMessage(message);
        }
        if (parser.retryMs !== undefined) retryMs = parser.retryMs;
      }
      options.onState?.('reconnecting', 'the server closed the stream');
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (signal.aborted) break;
      options.onState?.('reconnecting', (err as Error).message);
    }
    await delay(retryMs, signal);
  }
}

function errorMessage(text: string): string {
  try {
    return (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // Not unref'd on purpose: this wait is what keeps a following CLI command alive.
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
