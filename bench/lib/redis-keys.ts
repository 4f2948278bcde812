import { Redis } from 'ioredis';
import { unlinkMatching } from '../../test/helpers/redis.js';

/**
 * Deletes every key matching the glob patterns (SCAN + UNLINK), so a benchmark leaves the
 * shared Redis as it found it.
 */
export async function deleteKeys(url: string, patterns: readonly string[]): Promise<void> {
  const redis = new Redis(url);
  try {
    await unlinkMatching(redis, patterns);
  } finally {
    redis.disconnect();
  }
}
