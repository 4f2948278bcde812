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
