import { Redis } from 'ioredis';

/**
 * The publisher's own Redis connection. `enableOfflineQueue: false` and
 * `maxRetriesPerRequest: 0` make commands fail fast while Redis is away instead of piling up
 * inside ioredis: the publisher's buffer and spool are the only places events wait, and both
 * are bounded. ioredis reconnects by itself, with the backoff below.
 */

/** Options of {@link createPublisherClient}. */
export interface PublisherClientOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  /** Called on connection errors (ioredis emits one per failed reconnect). */
  onError: (err: Error) => void;
  /** Reconnect delay bounds, in ms: doubles from `min` to `max`. Default 50..2000. */
  reconnectDelayMs?: { min: number; max: number };
}

/** Creates a connecting client for the publisher. */
export function createPublisherClient(options: PublisherClientOptions): Redis {
  const { min, max } = options.reconnectDelayMs ?? { min: 50, max: 2000 };
  const client = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 5000,
    connectionName: 'jobscope-publisher',
    retryStrategy: (times) => {
      const base = Math.min(max, min * 2 ** Math.min(times - 1, 20));
      return Math.round(base / 2 + Math.random() * (base / 2));
    },
  });
  client.on('error', options.onError);
  return client;
}
