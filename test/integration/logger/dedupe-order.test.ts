import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBatch } from '../../../src/logger/batch-writer.js';
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
afterAll(async () => {
  await cleanupPrefix(redis, prefix);
  redis.disconnect();
});

const entry = (seq: number, producer = 'p1'): PendingEntry => {
  const json = JSON.stringify({ seq });
  return { stream, json, bytes: json.length, producer, seq };
};
const seqsInStream = async () =>
  (await redis.xrange(stream, '-', '+')).map(([, f]) => (JSON.parse(f[3]!) as { seq: number }).seq);

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
