import { describe, expect, it } from 'vitest';
import { resolveAsset } from '../../../src/api/routes/dashboard-route.js';
import { FeedSubscription } from '../../../src/api/sse/feed-subscription.js';
import type { FeedEntry } from '../../../src/status/types.js';

const entry = (id: string): FeedEntry => ({ id, kind: 'job', eventId: id, eventType: 'job.started', time: 1, machineId: 'm', workerId: 'w', serviceType: 's', connectorId: 'c' });

describe('a client queue of the live feed', () => {
  it('hands over queued entries, then waits for more', async () => {
    const sub = new FeedSubscription('1-0', 10, () => undefined);
    sub.push([entry('2-0'), entry('3-0')]);
    expect(await sub.next()).toEqual({ kind: 'entries', entries: [entry('2-0'), entry('3-0')] });
    const waiting = sub.next();
    sub.push([entry('4-0')]);
    expect(await waiting).toEqual({ kind: 'entries', entries: [entry('4-0')] });
  });

  it('drops its queue and reports an overflow when the client falls behind', async () => {
    const sub = new FeedSubscription('1-0', 2, () => undefined);
    sub.push([entry('2-0'), entry('3-0')]);
    sub.push([entry('4-0')]);
    expect(await sub.next()).toEqual({ kind: 'overflow' });
  });

  it('wakes a waiting reader on close and tells its owner once', async () => {
    let closes = 0;
    const sub = new FeedSubscription('1-0', 2, () => closes++);
    const waiting = sub.next();
    sub.close();
    sub.close();
    expect(await waiting).toEqual({ kind: 'closed' });
    expect(closes).toBe(1);
  });
});

describe('dashboard asset paths', () => {
  it('serves index.html at / and refuses to leave the dashboard directory', () => {
    expect(resolveAsset('/srv/dash', '/')).toBe('/srv/dash/index.html');
    expect(resolveAsset('/srv/dash', '/app.js')).toBe('/srv/dash/app.js');
    expect(resolveAsset('/srv/dash', '/../secret')).toBe('/srv/dash/secret');
    expect(resolveAsset('/srv/dash', '/%2e%2e/%2e%2e/etc/passwd')).toBe('/srv/dash/etc/passwd');
    expect(resolveAsset('/srv/dash', '/a%00b')).toBeUndefined();
  });
});
