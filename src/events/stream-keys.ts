/**
 * Redis key names shared by producer and consumer. Every key carries a hash tag (`{…}`) so
 * that, on Redis Cluster, the keys one Lua script touches live in one slot.
 */

/** Options that pick the keys of one Jobscope installation. */
export interface StreamKeyOptions {
  /** Key prefix; lets several installations share one Redis. Default `jobscope`. */
  prefix?: string;
  /** Number of event stream shards. Default 1 (one stream). */
  shards?: number;
}

/** Default key prefix. */
export const DEFAULT_PREFIX = 'jobscope';

/** The event stream key of shard `shard` (0-based). Shard 0 of 1 is `{jobscope}:events`. */
export function eventStreamKey(options: StreamKeyOptions = {}, shard = 0): string {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const shards = options.shards ?? 1;
  return shards <= 1 ? `{${prefix}}:events` : `{${prefix}:s${shard}}:events`;
}

/** All event stream keys. */
export function eventStreamKeys(options: StreamKeyOptions = {}): string[] {
  const shards = Math.max(1, options.shards ?? 1);
  return Array.from({ length: shards }, (_, i) => eventStreamKey(options, i));
}

/** The dead-letter stream key. */
export function deadLetterStreamKey(options: StreamKeyOptions = {}): string {
  return `{${options.prefix ?? DEFAULT_PREFIX}}:dlq`;
}

/**
 * Which shard a job's events go to: all events of one job share a shard so they stay in
 * order. FNV-1a over the job id (or the producer id for events without a job).
 */
export function shardFor(routingKey: string, shards: number): number {
  if (shards <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < routingKey.length; i++) {
    h ^= routingKey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}
