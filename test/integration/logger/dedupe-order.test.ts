import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBatch, writePacks } from '../../../src/logger/batch-writer.js';
import { PACK_MAX_EVENTS, type Pack } from '../../../src/logger/pack.js';
import type { PendingEntry } from '../../../src/logger/event-buffer.js';
import { createSpool } from '../../../src/logger/spool.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../helpers/redis.js';

/**
 * The publisher's "add once" script must never drop an event it has not added, whatever order
 * the seqs arrive in (a spool replayed after newer events, a resend after a reconnect), and
 * must still skip what it already has.
 */
const redis = testRedis();
const prefix = testPrefix('dedupe');
const stream = `{${prefix}}:events`;
beforeEach(async () => {
  await cleanupPrefix(redis, prefix);
});
afterAll(async () => {
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

const entry = (seq: number, producer = 'p1'): PendingEntry => {
  const json = JSON.stringify({ seq });
  return { stream, json, bytes: json.length, producer, seq };
};
/** Every event's seq, in stream order; a packed entry (`b`) holds one event JSON per line. */
const seqsInStream = async () =>
  (await redis.xrange(stream, '-', '+')).flatMap(([, f]) => f[3]!.split('\n').map((line) => (JSON.parse(line) as { seq: number }).seq));
/** The field names (`e` single, `b` packed) and event counts of the stream's entries. */
const entryShapes = async () => (await redis.xrange(stream, '-', '+')).map(([, f]) => `${f[2]}${f[3]!.split('\n').length}`);

describe('publisher add-once script', () => {
  it('adds seqs that arrive below the high-water mark, once, and skips resends', async () => {
    expect(
      await writeBatch(
        redis,
        [0, 1, 2, 10, 11].map((s) => entry(s)),
        5000,
      ),
    ).toEqual({ confirmed: 5 });
    // An older run (a spool replay) arrives after newer seqs: nothing of it may be lost.
    expect(
      await writeBatch(
        redis,
        [3, 4, 5, 6, 7, 8, 9].map((s) => entry(s)),
        5000,
      ),
    ).toEqual({ confirmed: 7 });
    // A resend of everything (replies lost): nothing is added twice.
    await writeBatch(
      redis,
      Array.from({ length: 12 }, (_, s) => entry(s)),
      5000,
    );
    const seqs = await seqsInStream();
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, s) => s));
  });

  it(`packs up to ${PACK_MAX_EVENTS} consecutive events per entry, a lone event as \`e\`, and resends add nothing`, async () => {
    const n = PACK_MAX_EVENTS + 5;
    const batch = Array.from({ length: n }, (_, s) => entry(s));
    expect(await writeBatch(redis, batch, 5000)).toEqual({ confirmed: n });
    expect(await entryShapes()).toEqual([`b${PACK_MAX_EVENTS}`, 'b5']);
    expect(await writeBatch(redis, batch, 5000)).toEqual({ confirmed: n });
    await writeBatch(redis, [entry(n)], 5000);
    expect(await entryShapes()).toEqual([`b${PACK_MAX_EVENTS}`, 'b5', 'e1']);
    expect(await seqsInStream()).toEqual(Array.from({ length: n + 1 }, (_, s) => s));
  });

  it('drops only the already-added events of a partly resent pack, and handles seqs that are not consecutive', async () => {
    await writeBatch(redis, [0, 1, 2, 3].map((s) => entry(s)), 5000);
    // 2 and 3 were added; 4..6 are new. Then a pack of scattered seqs (another shard took the rest).
    await writeBatch(redis, [2, 3, 4, 5, 6].map((s) => entry(s)), 5000);
    await writeBatch(redis, [9, 12, 20].map((s) => entry(s)), 5000);
    await writeBatch(redis, [12, 15].map((s) => entry(s)), 5000);
    expect(await seqsInStream()).toEqual([0, 1, 2, 3, 4, 5, 6, 9, 12, 20, 15]);
    expect(await entryShapes()).toEqual(['b4', 'b3', 'b3', 'e1']);
  });

  it('keeps a partly resent pack whole when a line follows ("^") or refers to ("@") a line already added', async () => {
    const pack = (firstSeq: number, lines: string[]): Pack => {
      const payload = Buffer.from(lines.join('\n'));
      return { stream, producer: 'p1', shared: '', firstSeq, seqs: undefined, count: lines.length, bytes: payload.length, payload };
    };
    await writePacks(redis, [pack(0, ['{"seq":0}', '{"seq":1}'])], 5000);
    // Seq 1 is in Redis already; seq 2's line follows it, seq 4's refers to seq 3's.
    await writePacks(redis, [pack(1, ['{"seq":1}', '{"seq":2,"^":1}'])], 5000);
    await writePacks(redis, [pack(3, ['{"seq":3}', '{"seq":4,"@":0}'])], 5000);
    await writePacks(redis, [pack(3, ['{"seq":3}', '{"seq":4,"@":0}', '{"seq":5}'])], 5000);
    expect(await entryShapes()).toEqual(['b2', 'b2', 'b2', 'b3']);
    expect(await seqsInStream()).toEqual([0, 1, 1, 2, 3, 4, 3, 4, 5]);
  });

  it('keeps a pack within its size bound: a large event goes alone', async () => {
    const big = (seq: number): PendingEntry => {
      const json = JSON.stringify({ seq, pad: 'x'.repeat(200 * 1024) });
      return { stream, json, bytes: json.length, producer: 'p1', seq };
    };
    await writeBatch(redis, [big(0), big(1), big(2), entry(3)], 5000);
    expect(await entryShapes()).toEqual(['b2', 'b2']);
    expect(await seqsInStream()).toEqual([0, 1, 2, 3]);
  });
});

describe('spool', () => {
  it('counts lines appended while an existing spool is being opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobscope-spool-'));
    try {
      const first = createSpool({ dir, name: 'race', maxBytes: 1 << 20 });
      await first.open();
      first.append([entry(0), entry(1), entry(2)]);
      const second = createSpool({ dir, name: 'race', maxBytes: 1 << 20 });
      const opening = second.open();
      second.append([entry(3), entry(4)]);
      await opening;
      expect(second.pending).toBe(5);
      const batch = await second.read(10);
      expect(batch.entries.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
