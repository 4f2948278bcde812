import type { Redis } from 'ioredis';

/**
 * Small reads of the bus the scenarios wait on: pending entries of a group (in total and per
 * consumer), and a wait that reports instead of throwing, so a scenario that runs out of time
 * still hands the oracle what it has (missing events are the finding, not a timeout).
 */

/** Pending entries of `group` on `stream`: total, and per consumer. 0 when the stream or group is missing. */
export async function pendingOf(redis: Redis, stream: string, group: string): Promise<{ total: number; byConsumer: Map<string, number> }> {
  try {
    const raw = (await redis.xpending(stream, group)) as [number, string | null, string | null, [string, string][] | null];
    return { total: Number(raw[0]), byConsumer: new Map((raw[3] ?? []).map(([c, n]) => [c, Number(n)])) };
  } catch {
    return { total: 0, byConsumer: new Map() };
  }
}

/** Polls `check` every `intervalMs` until true or `timeoutMs` passes; resolves whether it became true. */
export async function settle(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      // a peer or Redis not answering yet counts as "not yet"
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits `ms` (a scenario's fault duration or a random kill point, never a wait for a condition). */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
