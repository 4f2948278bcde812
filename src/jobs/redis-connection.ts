import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';

/** A Redis connection: a client the caller owns, or a URL the callee connects to (and closes). */
export type RedisConnection = Redis | string;

/**
 * A client for BullMQ, which insists on `maxRetriesPerRequest: null` (a blocking command must
 * wait through reconnects): a new client for a URL, a duplicate of a given client. Either way
 * the caller owns it and must disconnect it after the BullMQ object closed.
 */
export function bullClient(connection: RedisConnection): Redis {
  return typeof connection === 'string'
    ? new Redis(connection, { maxRetriesPerRequest: null })
    : connection.duplicate({ maxRetriesPerRequest: null });
}

/**
 * The client as BullMQ's connection option. BullMQ bundles its own ioredis, whose types differ
 * from ours by version only; at run time BullMQ accepts any ioredis instance (it duck-types).
 */
export function asBullConnection(redis: Redis): ConnectionOptions {
  return redis as unknown as ConnectionOptions;
}

/**
 * Call after a BullMQ Queue or Worker is closed, before disconnecting the client it used.
 *
 * BullMQ's close() removes every listener of its connection objects. A connection whose set-up
 * was still pending (the object was closed right after it was made, or Redis never answered)
 * then fails when the client is disconnected, and BullMQ emits that failure as an 'error' nobody
 * hears, which kills the process ("Connection is closed": seen when `jobscope start` was stopped
 * right after its banner). A no-op listener on each connection object takes it: the object is
 * closed, there is nothing left to report. (BullMQ 5: `connection`, and a Worker's
 * `blockingConnection`; fields that are not there are skipped.)
 */
export function quietAfterClose(bull: object): void {
  for (const key of ['connection', 'blockingConnection']) {
    const conn = (bull as Record<string, unknown>)[key] as { on?: (event: string, listener: () => void) => unknown } | undefined;
    if (typeof conn?.on === 'function') conn.on('error', () => undefined);
  }
}
