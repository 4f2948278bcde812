import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { cancelMarksKey, cancelReasonsKey, createCancelListener, requestCancel, type CancelMessage } from '../../../src/jobs/cancel-requests.js';
import { cleanupPrefix, testPrefix, testRedis, waitFor } from '../../helpers/redis.js';

let redis: Redis;
let prefix: string;
const queue = 'images';

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('cancel');
});

afterEach(async () => {
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

function listen(onCancel: (m: CancelMessage) => void = () => undefined, maxRemembered?: number) {
  return createCancelListener({ subscriber: redis.duplicate(), commands: redis, prefix, queue, onCancel, ...(maxRemembered ? { maxRemembered } : {}) });
}

describe('cancel requests', () => {
  it('a listener started later finds the requests stored before it, with their reasons', async () => {
    expect(await requestCancel(redis, { prefix, queue }, 'job-1', 'user pressed cancel')).toBe(0);
    await requestCancel(redis, { prefix, queue }, 'job-2');
    const l = listen();
    await l.ready;
    expect(l.pending('job-1')).toBe('user pressed cancel');
    expect(l.pending('job-2')).toBe('cancel requested');
    expect(l.pending('job-3')).toBeUndefined();
    await l.close();
  });

  it('a running listener hears a request live and counts as a subscriber', async () => {
    const heard: CancelMessage[] = [];
    const l = listen((m) => heard.push(m));
    await l.ready;
    expect(await requestCancel(redis, { prefix, queue }, 'job-9', 'stop')).toBe(1);
    await waitFor(() => heard.length === 1, { what: 'the cancel message' });
    expect(heard[0]).toEqual({ jobId: 'job-9', reason: 'stop' });
    expect(l.pending('job-9')).toBe('stop');
    await l.close();
  });

  it('expired requests are not loaded, the next request prunes them, and a short one does not cut the others short', async () => {
    const keys = { prefix, queue };
    await requestCancel(redis, keys, 'long', 'for a day');
    await requestCancel(redis, keys, 'old', 'too late', 1);
    // The keys live as long as their longest mark, not the last request's.
    expect(await redis.pttl(cancelMarksKey(keys))).toBeGreaterThan(80_000_000);
    await new Promise((r) => setTimeout(r, 1100));
    const before = listen();
    await before.ready;
    expect(before.pending('old')).toBeUndefined();
    expect(before.pending('long')).toBe('for a day');
    await before.close();
    await requestCancel(redis, keys, 'new', 'in time');
    expect((await redis.zrange(cancelMarksKey(keys), 0, -1)).sort()).toEqual(['long', 'new']);
    expect((await redis.hkeys(cancelReasonsKey(keys))).sort()).toEqual(['long', 'new']);
  });

  it('keeps at most the cap of marks (those expiring first go) and the keys expire with their marks', async () => {
    for (let i = 0; i < 5; i++) await requestCancel(redis, { prefix, queue }, `job-${i}`, `r${i}`, 60, 3);
    expect((await redis.zrange(cancelMarksKey({ prefix, queue }), 0, -1)).sort()).toEqual(['job-2', 'job-3', 'job-4']);
    expect((await redis.hkeys(cancelReasonsKey({ prefix, queue }))).sort()).toEqual(['job-2', 'job-3', 'job-4']);
    const ttl = await redis.pttl(cancelMarksKey({ prefix, queue }));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('a listener loads at most what it remembers, the newest requests, and forgets the oldest first', async () => {
    for (let i = 0; i < 4; i++) {
      await requestCancel(redis, { prefix, queue }, `job-${i}`, `r${i}`, 60 + i);
    }
    const l = listen(undefined, 2);
    await l.ready;
    expect(['job-0', 'job-1', 'job-2', 'job-3'].map((id) => l.pending(id))).toEqual([undefined, undefined, 'r2', 'r3']);
    await requestCancel(redis, { prefix, queue }, 'job-4', 'r4');
    await waitFor(() => l.pending('job-4') !== undefined, { what: 'the live request' });
    expect(l.pending('job-2')).toBeUndefined();
    expect(l.pending('job-3')).toBe('r3');
    expect(l.forgotten).toBe(1);
    await l.close();
  });

  it('loads thousands of stored requests (more than one script call can unpack at once)', async () => {
    const keys = { prefix, queue };
    const expiry = Date.now() + 3_600_000;
    const p = redis.pipeline();
    for (let i = 0; i < 9000; i++) {
      p.zadd(cancelMarksKey(keys), expiry + i, `bulk-${i}`);
      p.hset(cancelReasonsKey(keys), `bulk-${i}`, `reason ${i}`);
    }
    await p.exec();
    const l = listen(undefined, 10_000);
    await l.ready;
    expect(l.pending('bulk-0')).toBe('reason 0');
    expect(l.pending('bulk-4321')).toBe('reason 4321');
    expect(l.pending('bulk-8999')).toBe('reason 8999');
    await l.close();
  });
});

describe('used-up cancel requests', () => {
  it('consume() deletes the mark and makes every listener forget it; a request after it is heard again', async () => {
    const keys = { prefix, queue };
    const a = listen();
    const b = listen();
    await Promise.all([a.ready, b.ready]);
    expect(await requestCancel(redis, keys, 'nightly-sync', 'skip tonight')).toBe(2);
    await waitFor(() => a.pending('nightly-sync') !== undefined && b.pending('nightly-sync') !== undefined, { what: 'both listeners to hear it' });
    a.consume('nightly-sync');
    expect(a.pending('nightly-sync')).toBeUndefined();
    await waitFor(() => b.pending('nightly-sync') === undefined, { what: 'the other listener to forget it' });
    expect(await redis.zcard(cancelMarksKey(keys))).toBe(0);
    expect(await redis.hlen(cancelReasonsKey(keys))).toBe(0);
    // A listener started now does not load it.
    const c = listen();
    await c.ready;
    expect(c.pending('nightly-sync')).toBeUndefined();
    // A new request for the same id counts again, everywhere.
    await requestCancel(redis, keys, 'nightly-sync', 'skip again');
    await waitFor(() => [a, b, c].every((l) => l.pending('nightly-sync') === 'skip again'), { what: 'the new request' });
    for (const l of [a, b, c]) await l.close();
  });

  it('after its connection drops, a listener learns what was requested and used up while it was away', async () => {
    const keys = { prefix, queue };
    const heard: CancelMessage[] = [];
    const subscriber = redis.duplicate();
    const id = (await subscriber.client('ID')) as number;
    const l = createCancelListener({ subscriber, commands: redis, prefix, queue, onCancel: (m) => heard.push(m) });
    const other = listen();
    await Promise.all([l.ready, other.ready]);
    await requestCancel(redis, keys, 'used-up', 'done elsewhere');
    await waitFor(() => l.pending('used-up') !== undefined && other.pending('used-up') !== undefined, { what: 'both to hear it' });
    heard.length = 0;
    // The listener's connection drops; while it reconnects, one request is made and another used up.
    await redis.client('KILL', 'ID', String(id));
    // Heard by the other listener only (ioredis waits 50 ms before it reconnects).
    expect(await requestCancel(redis, keys, 'while-away', 'requested meanwhile')).toBe(1);
    other.consume('used-up');
    await waitFor(() => heard.some((m) => m.jobId === 'while-away'), { what: 'the request made while it was away' });
    expect(heard).toEqual([{ jobId: 'while-away', reason: 'requested meanwhile' }]);
    expect(l.pending('while-away')).toBe('requested meanwhile');
    await waitFor(() => l.pending('used-up') === undefined, { what: 'the mark used up meanwhile to be forgotten' });
    // And it hears live requests again.
    expect(await requestCancel(redis, keys, 'after', 'live again')).toBe(2);
    await waitFor(() => heard.some((m) => m.jobId === 'after'), { what: 'a live request after the reconnect' });
    for (const x of [l, other]) await x.close();
  });
});
