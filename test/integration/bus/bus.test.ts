import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAcker, createDeadLetter, createGroupGuard, createGroupReader, createTrimmer, readStreamStats } from '../../../src/bus/index.js';
import { deadLetterStreamKey, eventStreamKey } from '../../../src/events/index.js';
import { publishEvents, quietLogger } from '../../helpers/pipeline-fixtures.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../helpers/redis.js';

let redis: Redis;
let prefix: string;
let stream: string;

beforeEach(() => {
  redis = testRedis();
  prefix = testPrefix('bus');
  stream = eventStreamKey({ prefix });
});
afterEach(async () => {
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

const guardFor = (group: string) => createGroupGuard({ redis, streams: [stream], group, logger: quietLogger });

describe('bus', () => {
  it('groups start at 0 (nothing skipped) and a restarted consumer reads its own pending entries first', async () => {
    await publishEvents(redis, prefix, 5);
    const guard = guardFor('sink:a');
    await guard.ensure();
    const r1 = createGroupReader({ redis, streams: [stream], group: 'sink:a', consumer: 'c', blockMs: 10, guard });
    const first = await r1.read(3);
    expect(first.map((e) => e.deliveries)).toEqual([1, 1, 1]);
    // "Restart": a new reader with the same consumer name gets the same 3 first, with their delivery counts.
    const r2 = createGroupReader({ redis, streams: [stream], group: 'sink:a', consumer: 'c', blockMs: 10, guard });
    const again = await r2.read(10);
    expect(again.map((e) => e.id)).toEqual(first.map((e) => e.id));
    expect(again.map((e) => e.deliveries)).toEqual([2, 2, 2]);
    const rest = await r2.read(10);
    expect(rest).toHaveLength(2);
    expect(await createAcker({ redis, group: 'sink:a' }).ack([...again, ...rest])).toBe(5);
    expect(await r2.read(10)).toEqual([]);
  });

  it('dead-letters atomically: the dead-letter entry is written and the source entry acknowledged', async () => {
    await publishEvents(redis, prefix, 1);
    const guard = guardFor('sink:a');
    await guard.ensure();
    const [e] = await createGroupReader({ redis, streams: [stream], group: 'sink:a', consumer: 'c', guard }).read(1);
    await createDeadLetter({ redis, deadLetterStream: deadLetterStreamKey({ prefix }), group: 'sink:a', sink: 'a' }).send([{ entry: e!, code: 'rejected', reason: 'why' }]);
    const rows = await redis.xrange(deadLetterStreamKey({ prefix }), '-', '+');
    expect(rows).toHaveLength(1);
    const fields = rows[0]![1];
    expect(fields).toEqual(expect.arrayContaining(['reason', 'why', 'code', 'rejected', 'sink', 'a', 'stream', stream, 'id', e!.id, 'orig.v', '1']));
    expect(((await redis.xpending(stream, 'sink:a')) as unknown[])[0]).toBe(0);
  });

  it('dead-letters one event of a packed entry alone, acknowledging the entry only when told it settles it', async () => {
    const lines = ['{"n":0}', '{"n":"é1"}', '{"n":2}'];
    await redis.xadd(stream, '*', 'v', '1', 'b', lines.join('\n'));
    const guard = guardFor('sink:a');
    await guard.ensure();
    const [e] = await createGroupReader({ redis, streams: [stream], group: 'sink:a', consumer: 'c', guard }).read(1);
    const dl = createDeadLetter({ redis, deadLetterStream: deadLetterStreamKey({ prefix }), group: 'sink:a', sink: 'a' });
    await dl.send([{ entry: e!, code: 'rejected', reason: 'no', eventId: 'x', part: { index: 1, ack: false, deliveries: 3 } }]);
    expect(((await redis.xpending(stream, 'sink:a')) as unknown[])[0]).toBe(1); // its other events are not settled
    await dl.send([{ entry: e!, code: 'invalid', reason: 'bad', part: { index: 2, ack: true } }]);
    expect(((await redis.xpending(stream, 'sink:a')) as unknown[])[0]).toBe(0);
    const rows = await redis.xrangeBuffer(deadLetterStreamKey({ prefix }), '-', '+');
    const records = rows.map(([, f]) => new Map(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i]!.toString(), f[2 * i + 1]!])));
    expect(records.map((r) => [r.get('part')?.toString(), r.get('deliveries')?.toString(), r.get('orig.v')?.toString()])).toEqual([['1', '3', '1'], ['2', '1', '1']]);
    expect(records[0]!.get('orig.e')).toEqual(Buffer.from(lines[1]!)); // that event alone, byte for byte
    expect(records[1]!.get('orig.e')).toEqual(Buffer.from(lines[2]!));
    expect(records.every((r) => !r.has('orig.b'))).toBe(true);
  });

  it('trims to the lowest unacknowledged id across all groups, and reports lag and pending', async () => {
    const events = await publishEvents(redis, prefix, 10);
    await guardFor('sink:fast').ensure();
    await guardFor('sink:slow').ensure();
    const fast = createGroupReader({ redis, streams: [stream], group: 'sink:fast', consumer: 'c', guard: guardFor('sink:fast') });
    await createAcker({ redis, group: 'sink:fast' }).ack(await fast.read(10));
    const slow = createGroupReader({ redis, streams: [stream], group: 'sink:slow', consumer: 'c', guard: guardFor('sink:slow') });
    const slowBatch = await slow.read(4);
    await createAcker({ redis, group: 'sink:slow' }).ack(slowBatch.slice(0, 2)); // 2 acked, 2 pending, 6 undelivered
    const [result] = await createTrimmer({ redis, streams: [stream] }).trim();
    expect(result!.removed).toBe(2);
    expect(result!.floorId).toBe(slowBatch[2]!.id);
    expect(await redis.xlen(stream)).toBe(8);
    const stats = await readStreamStats(redis, [stream], deadLetterStreamKey({ prefix }));
    expect(stats.groups.find((g) => g.sink === 'slow')).toMatchObject({ lag: 6, pending: 2 });
    expect(stats.groups.find((g) => g.sink === 'fast')).toMatchObject({ lag: 0, pending: 0 });
    expect(stats.streams).toEqual([{ stream, length: 8 }]);
    expect(events).toHaveLength(10);
  });

  it('a new group at 0 stops all trimming', async () => {
    await publishEvents(redis, prefix, 5);
    await guardFor('sink:late').ensure();
    const [result] = await createTrimmer({ redis, streams: [stream], maxLength: 1 }).trim();
    expect(result!.removed).toBe(0);
    expect(await redis.xlen(stream)).toBe(5);
  });
});
