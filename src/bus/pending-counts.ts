import type { Redis } from 'ioredis';

/**
 * Delivery counts of a consumer's pending entries, from the extended XPENDING form
 * (`XPENDING key group start end count consumer` → `[id, consumer, idleMs, deliveries]`).
 * Returns a map from entry id to delivery count; ids missing from the PEL are absent.
 */
export async function pendingCounts(
  redis: Redis,
  stream: string,
  group: string,
  consumer: string,
  startId: string,
  endId: string,
  count: number,
): Promise<Map<string, number>> {
  const raw = (await redis.call('XPENDING', stream, group, startId, endId, String(count), consumer)) as unknown;
  const out = new Map<string, number>();
  if (!Array.isArray(raw)) return out;
  for (const row of raw) {
    if (Array.isArray(row) && row.length >= 4) out.set(String(row[0]), Number(row[3]));
  }
  return out;
}
