import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis the tests share (the local one, or REDIS_URL). */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A random key prefix, so tests never see each other's keys. */
export function testPrefix(name = 't'): string {
  return `jstest-${name}-${randomBytes(4).toString('hex')}`;
}

/** A client on the test Redis. */
export function testRedis(url: string = TEST_REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: 3 });
}

/** Deletes every key matching the glob patterns (SCAN + UNLINK). */
export async function unlinkMatching(redis: Redis, patterns: readonly string[]): Promise<void> {
  for (const pattern of patterns) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  }
}

/** Deletes every key of a prefix (its hash-tagged keys included). */
export async function cleanupPrefix(redis: Redis, prefix: string): Promise<void> {
  await unlinkMatching(redis, [`{${prefix}}*`, `{${prefix}:*`, `${prefix}*`]);
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes; returns the value. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 25, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
