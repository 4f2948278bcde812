import { describe, expect, it } from 'vitest';
import { createWorkerHealth, DROP_RECENT_MS } from '../../../src/cli/commands/worker.js';
import type { PublisherStats } from '../../../src/logger/types.js';

const stats = (connected: boolean, dropped: number) => ({ connected, dropped, buffered: 0, spoolPending: 0 }) as unknown as PublisherStats;

describe("the worker's /healthz", () => {
  it('is unhealthy only while events are being lost: Redis away and events dropped lately', () => {
    let now = 1_000_000;
    const health = createWorkerHealth(() => now);
    // Redis away, nothing dropped (the spool takes the events): healthy.
    expect(health(stats(false, 0)).ok).toBe(true);
    // Events dropped while Redis is away: unhealthy.
    expect(health(stats(false, 5)).ok).toBe(false);
    // Redis back: healthy, whatever was dropped before.
    expect(health(stats(true, 5)).ok).toBe(true);
    // A later blip, with no new drops, long after the last one: still healthy.
    now += DROP_RECENT_MS + 1;
    expect(health(stats(false, 5))).toMatchObject({ ok: true, connected: false, dropped: 5 });
    // New drops: unhealthy again.
    expect(health(stats(false, 6)).ok).toBe(false);
  });
});
