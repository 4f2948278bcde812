import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createTransport, type NodeClient } from '@sentry/node';

/**
 * A Sentry transport that tells the sink what happened to each event. The stock transports
 * resolve and forget; here every envelope's HTTP answer (status, `Retry-After`,
 * `X-Sentry-Rate-Limits`, a bit of the body) is handed to whoever waits for that event id,
 * so the sink confirms an event only on a 2xx.
 */

type NodeClientOptions = ConstructorParameters<typeof NodeClient>[0];
/** What `NodeClient`'s `transport` option takes. */
export type TransportFactory = NodeClientOptions['transport'];
type MakeRequest = Parameters<typeof createTransport>[1];
type Transport = ReturnType<typeof createTransport>;

/** What became of one event's envelope. */
export interface DeliveryAnswer {
  /** HTTP status; absent when no request was made (network error, client-side rate limit). */
  statusCode?: number;
  retryAfter?: string;
  rateLimits?: string;
  /** Start of the response body (Sentry explains 4xx answers there). */
  detail?: string;
  /** Network or timeout error, when there was no answer. */
  error?: string;
}

/** Options of {@link createDeliveryTracker}. */
export interface DeliveryTrackerOptions {
  /** HTTP timeout per envelope, in ms. Default 10000. */
  timeoutMs?: number;
  /** Most events waited for at once. Default 1000. */
  maxPending?: number;
}

/** The transport factory plus the way to wait for an event's answer. */
export interface DeliveryTracker {
  transport: TransportFactory;
  /** Resolves with the answer for `eventId`; call before capturing the event. */
  expect(eventId: string, signal: AbortSignal): Promise<DeliveryAnswer>;
}

const MAX_DETAIL_CHARS = 512;

function makeRequestTo(url: string, timeoutMs: number): MakeRequest {
  return ({ body }) =>
    new Promise((resolve, reject) => {
      const send = url.startsWith('https:') ? httpsRequest : httpRequest;
      const req = send(url, { method: 'POST', headers: { 'content-type': 'application/x-sentry-envelope' } }, (res) => {
        let detail = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (detail.length < MAX_DETAIL_CHARS) detail += chunk.slice(0, MAX_DETAIL_CHARS - detail.length);
        });
        res.on('error', reject);
        res.on('end', () => {
          const header = (name: string) => (typeof res.headers[name] === 'string' ? (res.headers[name] as string) : null);
          const headers = { 'retry-after': header('retry-after'), 'x-sentry-rate-limits': header('x-sentry-rate-limits') };
          resolve(Object.assign({ statusCode: res.statusCode, headers }, { detail }));
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`Sentry gave no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
}

/** Creates the tracker. The same tracker serves one client. */
export function createDeliveryTracker(options: DeliveryTrackerOptions = {}): DeliveryTracker {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxPending = options.maxPending ?? 1000;
  const waiters = new Map<string, (answer: DeliveryAnswer) => void>();
  const settle = (eventId: string | undefined, answer: DeliveryAnswer) => {
    if (eventId === undefined) return;
    waiters.get(eventId)?.(answer);
  };

  const transport: TransportFactory = (transportOptions) => {
    const inner: Transport = createTransport(transportOptions, makeRequestTo(transportOptions.url, timeoutMs));
    return {
      send(envelope) {
        const eventId = (envelope[0] as { event_id?: string }).event_id;
        return inner.send(envelope).then(
          (res) => {
            const r = res as typeof res & { detail?: string };
            const h: Record<string, string | null | undefined> = r.headers ?? {};
            settle(eventId, {
              statusCode: r.statusCode,
              retryAfter: h['retry-after'] ?? undefined,
              rateLimits: h['x-sentry-rate-limits'] ?? undefined,
              detail: r.detail,
              error: r.statusCode === undefined ? 'not sent: Sentry rate limit still in force' : undefined,
            });
            return res;
          },
          (err: unknown) => {
            settle(eventId, { error: err instanceof Error ? err.message : String(err) });
            throw err;
          },
        );
      },
      flush: (timeout) => inner.flush(timeout),
    };
  };

  function expect(eventId: string, signal: AbortSignal): Promise<DeliveryAnswer> {
    if (waiters.size >= maxPending) return Promise.resolve({ error: `more than ${maxPending} events in flight` });
    return new Promise((resolve) => {
      const guardMs = timeoutMs + 2_000;
      const done = (answer: DeliveryAnswer) => {
        waiters.delete(eventId);
        clearTimeout(guard);
        signal.removeEventListener('abort', onAbort);
        resolve(answer);
      };
      const onAbort = () => done({ error: 'aborted (shutting down)' });
      const guard = setTimeout(() => done({ error: `no answer from the Sentry transport within ${guardMs} ms` }), guardMs);
      guard.unref();
      signal.addEventListener('abort', onAbort, { once: true });
      waiters.set(eventId, done);
    });
  }

  return { transport, expect };
}
