import { afterEach, describe, expect, it } from 'vitest';
import { ClosedError } from '../../../src/errors.js';
import { makeEvent } from '../../helpers/events.js';
import { jobEvent, statusFixture, type StatusFixture } from './status-fixture.js';

const T = 1_700_000_000_000;
let fx: StatusFixture;

afterEach(async () => {
  await fx.done();
});

describe('status sink contract', () => {
  it('rejects only the event its record cannot take, applies the rest, and can apply it once repaired', async () => {
    fx = statusFixture();
    await fx.apply(jobEvent('job.received', 'bad', 1, T));
    await fx.redis.hset(`{${fx.prefix}}:job:bad`, 'costUsd', 'not-a-number'); // a corrupted record
    const poisoned = jobEvent('job.progress', 'bad', 1, T + 1, { data: { progress: 5 }, ai: { costUsd: 0.1 } });
    const fine = jobEvent('job.received', 'good', 1, T + 2);
    const r = await fx.sink.write([poisoned, fine], new AbortController().signal);
    expect(r.status).toBe('ok');
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected?.[0]?.eventId).toBe(poisoned.id);
    expect(r.rejected?.[0]?.reason).toMatch(/^status store could not apply the event: hash value is not a float/);
    expect(await fx.reader.getJob('good')).toMatchObject({ state: 'received' });
    expect(fx.sink.stats()).toMatchObject({ rejected: 1, applied: 2 });
    // The rejected id was not remembered as applied: once repaired, the event goes in.
    await fx.redis.hdel(`{${fx.prefix}}:job:bad`, 'costUsd');
    await fx.apply(poisoned);
    expect(await fx.reader.getJob('bad')).toMatchObject({ progress: 5, ai: { costUsd: 0.1 } });
  });

  it('answers retry without writing when already aborted, reports health, and closes once', async () => {
    fx = statusFixture();
    const ac = new AbortController();
    ac.abort();
    expect((await fx.sink.write([jobEvent('job.received', 'x', 1, T)], ac.signal)).status).toBe('retry');
    expect(await fx.reader.getJob('x')).toBeUndefined();
    expect(fx.sink.name).toBe('status');
    expect(await fx.sink.health()).toMatchObject({ ok: true });
    await fx.sink.close();
    await fx.sink.close();
    await expect(fx.sink.write([], new AbortController().signal)).rejects.toBeInstanceOf(ClosedError);
  });

  it('log lines without a job are confirmed and change nothing', async () => {
    fx = statusFixture();
    const line = makeEvent({ type: 'log', time: T, data: { kind: 'log' } });
    delete (line as { job?: unknown }).job;
    const r = await fx.sink.write([line], new AbortController().signal);
    expect(r).toEqual({ status: 'ok' });
    expect(fx.sink.stats()).toMatchObject({ ignored: 1, applied: 0 });
    expect(await fx.reader.readFeed({ afterId: '0' })).toEqual([]);
  });
});
