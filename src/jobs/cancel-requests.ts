import type { Redis } from 'ioredis';

/**
 * Cancel requests, across processes. Whoever wants a job cancelled (API, CLI, the producer)
 * calls {@link requestCancel}: it stores a marker key (TTL) and publishes on the queue's cancel
 * channel. A running worker hears the message and aborts the job through BullMQ's own
 * `Worker.cancelJob` (the processor's AbortSignal); a worker that starts the job later finds
 * the marker at start. The job then fails as `cancelled` and is not retried.
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
  /** A normal connection for marker lookups (not closed by the listener). */
  commands: Redis;
  onCancel(message: CancelMessage): void;
  onError?(err: unknown): void;
}

/** A live subscription to a queue's cancel requests. */
export interface CancelListener {
  /** Resolves once subscribed. */
  ready: Promise<void>;
  /** The reason of a pending cancel request for `jobId`, if any. */
  pending(jobId: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Subscribes to the cancel channel of a queue. */
export function createCancelListener(o: CancelListenerOptions): CancelListener {
  const channel = cancelChannel(o);
  const onError = o.onError ?? (() => undefined);
  o.subscriber.on('message', (ch: string, text: string) => {
    if (ch !== channel) return;
    try {
      const m = JSON.parse(text) as Partial<CancelMessage>;
      if (typeof m.jobId === 'string') o.onCancel({ jobId: m.jobId, reason: typeof m.reason === 'string' ? m.reason : 'cancel requested' });
    } catch (err) {
      onError(err);
    }
  });
  const ready = o.subscriber.subscribe(channel).then(() => undefined);
  let closing: Promise<void> | undefined;
  return {
    ready,
    pending: async (jobId) => (await o.commands.get(cancelKey(o, jobId))) ?? undefined,
    close() {
      closing ??= (async () => {
        await ready.catch(() => undefined);
        o.subscriber.disconnect();
      })();
      return closing;
    },
  };
}
