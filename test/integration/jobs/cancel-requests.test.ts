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

  it('expired requests are not loaded, and the next request prunes them', async () => {
    await requestCancel(redis, { prefix, queue }, 'old', 'too late', 1);
    await new Promise((r) => setTimeout(r, 1100));
    await requestCancel(redis, { prefix, queue }, 'new', 'in time');
    const l = listen();
    await l.ready;
    expect(l.pending('old')).toBeUndefined();
    expect(l.pending('new')).toBe('in time');
    expect(await redis.zrange(cancelMarksKey({ prefix, queue }), 0, -1)).toEqual(['new']);
    expect(await redis.hkeys(cancelReasonsKey({ prefix, queue }))).toEqual(['new']);
    await l.close();
  });

  it('keeps at most the cap of marks (those expiring first go) and the keys expire with their marks', async () => {
    for (let i = 0; i < 5; i++) await requestCancel(redis, { prefix, queue }, `job-${i}`, `r${i}`, 60, 3);
    expect((await redis.zrange(cancelMarksKey({ prefix, queue }), 0, -1)).sort()).toEqual(['job-2', 'job-3', 'job-4']);
    expect((await redis.hkeys(cancelReasonsKey({ prefix, queue }))).sort()).toEqual(['job-2', 'job-3', 'job-4']);
    const ttl = await redis.pttl(cancelMarksKey({ prefix, queue }));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('a listener loads at most what it remembers, the newest requests', async () => {
    for (let i = 0; i < 4; i++) {
      await requestCancel(redis, { prefix, queue }, `job-${i}`, `r${i}`, 60 + i);
    }
    const l = listen(undefined, 2);
    await l.ready;
    expect(['job-0', 'job-1', 'job-2', 'job-3'].map((id) => l.pending(id))).toEqual([undefined, undefined, 'r2', 'r3']);
    await l.close();
  });
});
