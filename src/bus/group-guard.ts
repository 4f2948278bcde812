import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Creates a sink's consumer groups and recreates them when Redis came back empty. A NOGROUP
 * reply means the stream or its groups vanished (a flush, a failover to an empty replica, a
 * restart without persistence): events may have been lost upstream, so this is said loudly.
 */

/** Options of {@link createGroupGuard}. */
export interface GroupGuardOptions {
  redis: Redis;
  /** The event stream keys (one per shard). */
  streams: readonly string[];
  /** The group name, `sink:<name>`. */
  group: string;
  logger: Logger;
  /** Called once per recreation (after the first creation), e.g. to count a metric. */
  onRecreated?: () => void;
}

/** Ensures the groups of one sink exist. */
export interface GroupGuard {
  /** Creates the missing groups (MKSTREAM, at id `0` so nothing already in the stream is skipped). */
  ensure(): Promise<number>;
  /** If `err` is NOGROUP: recreates the groups, logs at error level, counts; returns true. */
  recover(err: unknown): Promise<boolean>;
}

/** True when `err` is a Redis NOGROUP reply. */
export function isNoGroupError(err: unknown): boolean {
  return err instanceof Error && /^NOGROUP\b/.test(err.message);
}

/** Creates a {@link GroupGuard}. */
export function createGroupGuard(options: GroupGuardOptions): GroupGuard {
  const { redis, streams, group, logger } = options;

  async function ensure(): Promise<number> {
    let created = 0;
    for (const stream of streams) {
      try {
        await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
        created++;
      } catch (err) {
        if (!(err instanceof Error && err.message.startsWith('BUSYGROUP'))) throw err;
      }
    }
    return created;
  }

  async function recover(err: unknown): Promise<boolean> {
    if (!isNoGroupError(err)) return false;
    const created = await ensure();
    logger.error(
      { group, streams, created },
      'consumer group missing (NOGROUP): Redis came back empty or the stream was deleted; groups recreated at id 0. ' +
        'Events published before this point may be lost; check Redis persistence.',
    );
    if (created > 0) options.onRecreated?.();
    return true;
  }

  return { ensure, recover };
}
