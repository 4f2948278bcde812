import type { Redis } from 'ioredis';
import type { SinkHealth } from './sink.js';

/** Health of a sink whose backend is Redis itself: ok while PING answers. */
export async function redisHealth(redis: Redis, where: string): Promise<SinkHealth> {
  try {
    await redis.ping();
    return { ok: true, detail: `${where} on Redis` };
  } catch (err) {
    return { ok: false, detail: `Redis does not answer: ${(err as Error).message}` };
  }
}
