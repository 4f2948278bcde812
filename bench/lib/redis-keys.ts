import { Redis } from 'ioredis';

/**
 * Deletes every key matching the glob patterns (SCAN + UNLINK), so a benchmark leaves the
 * shared Redis as it found it.
 */
export async function deleteKeys(url: string, patterns: readonly string[]): Promise<void> {
  const redis = new Redis(url);
  try {
    for (const pattern of patterns) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
