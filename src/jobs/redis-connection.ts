import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { withDeadline } from './with-deadline.js';

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

/** Longest {@link settleBullConnection} waits, in ms. */
export const SETTLE_MS = 2000;

/**
 * Waits, up to {@link SETTLE_MS}, until a BullMQ Queue's or Worker's connections have finished
 * setting up (ready, or failed). Closed before that, BullMQ removes the listeners that would
 * report its set-up's outcome, and when the client is then disconnected the pending set-up fails
 * with an 'error' nobody hears: the process dies of it ("Connection is closed", seen when
 * `jobscope start` was stopped right after its banner). Never rejects.
 */
export async function settleBullConnection(bull: { waitUntilReady(): Promise<unknown> }): Promise<void> {
  await withDeadline(bull.waitUntilReady().catch(() => undefined), SETTLE_MS);
}
