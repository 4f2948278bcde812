import { Redis } from 'ioredis';

/**
 * Fails fast, with a way out, when the Redis the integration tests need is not answering.
 * `npm test` (scripts/test.mjs) starts one first; this catches a bare `npx vitest`.
 */
export default async function setup(): Promise<void> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Tests need Redis at ${url} (${(err as Error).message}). Run "npm test", which starts one, ` +
        `or start redis-server yourself, or set REDIS_URL.`,
    );
  } finally {
    redis.disconnect();
  }
}
