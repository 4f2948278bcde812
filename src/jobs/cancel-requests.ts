import type { Redis } from 'ioredis';

/**
 * Cancel requests, across processes. Whoever wants a job cancelled (API, CLI, the producer)
 * calls {@link requestCancel}: it stores a marker key (TTL) and publishes on the queue's cancel
 * channel. A running worker hears the message and aborts the running attempt (the connector's
 * `ctx.signal`); a worker that starts the job later finds the marker at start. The job then fails as `cancelled` and is not retried.
 */

/** Where the cancel markers and channel of a queue live. */
export interface CancelKeyOptions {
  /** Jobscope key prefix. Default `jobscope`. */
  prefix?: string;
  queue: string;
}

/** The pub/sub channel of a queue's cancel requests. */
export function cancelChannel(o: CancelKeyOptions): string {
  return `{${o.prefix ?? 'jobscope'}}:cancel:${o.queue}`;
}

/** The marker key of one job's cancel request. */
export function cancelKey(o: CancelKeyOptions, jobId: string): string {
  return `{${o.prefix ?? 'jobscope'}}:cancel:${o.queue}:${jobId}`;
}

/** One cancel request on the channel. */
export interface CancelMessage {
  jobId: string;
  reason: string;
}

/** Default lifetime of a cancel marker, in seconds: 1 day. */
export const CANCEL_MARKER_TTL_SECONDS = 86_400;

/** Requests the cancellation of a job; resolves with how many workers heard it live. */
export async function requestCancel(
  redis: Redis,
  o: CancelKeyOptions,
  jobId: string,
  reason = 'cancel requested',
  ttlSeconds = CANCEL_MARKER_TTL_SECONDS,
): Promise<number> {
  const text = reason.slice(0, 1024);
  const res = await redis
    .multi()
    .set(cancelKey(o, jobId), text, 'EX', ttlSeconds)
    .publish(cancelChannel(o), JSON.stringify({ jobId, reason: text } satisfies CancelMessage))
    .exec();
  const published = res?.[1]?.[1];
  return typeof published === 'number' ? published : 0;
}

/** Options of {@link createCancelListener}. */
export interface CancelListenerOptions extends CancelKeyOptions {
  /** A connection of its own: it enters subscriber mode. The listener closes it. */
  subscriber: Redis;
  /** A normal connection, to load the markers stored before this worker started (not closed here). */
  commands: Redis;
  onCancel(message: CancelMessage): void;
  onError?(err: unknown): void;
  /** Most cancel requests remembered for jobs not (yet) running here. Default 10000. */
  maxRemembered?: number;
}

/** A live subscription to a queue's cancel requests. */
export interface CancelListener {
  /** Resolves once subscribed and the stored markers are loaded. */
  ready: Promise<void>;
  /** The reason of a cancel request for `jobId` heard or loaded, if any. No Redis round trip. */
  pending(jobId: string): string | undefined;
  /** Requests forgotten because more than `maxRemembered` were pending. */
  readonly forgotten: number;
  close(): Promise<void>;
}

/**
 * Subscribes to the cancel channel of a queue. Requests are remembered (bounded, oldest
 * forgotten first and counted) so a job that starts after its cancel request ends at once
 * without a Redis lookup per job; markers stored before the worker started are loaded at start.
 */
export function createCancelListener(o: CancelListenerOptions): CancelListener {
  const channel = cancelChannel(o);
  const onError = o.onError ?? (() => undefined);
  const max = o.maxRemembered ?? 10_000;
  const remembered = new Map<string, string>();
  let forgotten = 0;
  const remember = (jobId: string, reason: string): void => {
    remembered.delete(jobId);
    remembered.set(jobId, reason);
    if (remembered.size > max) {
      remembered.delete(remembered.keys().next().value!);
      forgotten++;
    }
  };
  o.subscriber.on('message', (ch: string, text: string) => {
    if (ch !== channel) return;
    try {
      const m = JSON.parse(text) as Partial<CancelMessage>;
      if (typeof m.jobId !== 'string') return;
      const reason = typeof m.reason === 'string' ? m.reason : 'cancel requested';
      remember(m.jobId, reason);
      o.onCancel({ jobId: m.jobId, reason });
    } catch (err) {
      onError(err);
    }
  });
  const ready = Promise.all([o.subscriber.subscribe(channel), loadStored(o, remember, max)]).then(() => undefined);
  let closing: Promise<void> | undefined;
  return {
    ready,
    pending: (jobId) => remembered.get(jobId),
    get forgotten() {
      return forgotten;
    },
    close() {
      closing ??= (async () => {
        await ready.catch(() => undefined);
        o.subscriber.disconnect();
      })();
      return closing;
    },
  };
}

/** Loads up to `max` stored markers of the queue (SCAN, so a big keyspace does not block Redis). */
async function loadStored(o: CancelListenerOptions, remember: (jobId: string, reason: string) => void, max: number): Promise<void> {
  const base = cancelKey(o, '');
  let cursor = '0';
  let loaded = 0;
  do {
    const [next, keys] = await o.commands.scan(cursor, 'MATCH', `${base.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    cursor = next;
    const reasons = keys.length > 0 ? await o.commands.mget(...keys) : [];
    keys.forEach((key, i) => {
      const reason = reasons[i];
      if (typeof reason === 'string' && loaded++ < max) remember(key.slice(base.length), reason);
    });
  } while (cursor !== '0' && loaded < max);
}
