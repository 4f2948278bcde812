import { describe, expect, it } from 'vitest';
import type { StreamEntry } from '../../../src/bus/index.js';
import { createEntryTally } from '../../../src/pipeline/entry-tally.js';
import { createReadSizer } from '../../../src/pipeline/read-sizer.js';

const entry = (id: string): StreamEntry => ({ stream: 's', id, fields: [], deliveries: 1 });

describe('entry tally', () => {
  it('settles a packed entry only with its last event, counting the confirmed ones', () => {
    const tally = createEntryTally();
    const e = entry('1-0');
    expect(tally.settle({ entry: e, part: 2, parts: 3 }, true)).toBeUndefined();
    expect(tally.settle({ entry: e, part: 2, parts: 3 }, true)).toBeUndefined(); // twice counts once
    expect(tally.settle({ entry: e, part: 0, parts: 3 }, false)).toBeUndefined();
    expect(tally.settle({ entry: e, part: 1, parts: 3 }, true)).toBe(2);
  });

  it('a single-event entry settles at once; a re-read entry (a new object) starts fresh', () => {
    const tally = createEntryTally();
    expect(tally.settle({ entry: entry('1-0'), part: 0, parts: 1 }, true)).toBe(1);
    expect(tally.settle({ entry: entry('1-0'), part: 0, parts: 1 }, false)).toBe(0);
    const first = entry('2-0');
    tally.settle({ entry: first, part: 0, parts: 2 }, true);
    const again = entry('2-0');
    expect(tally.settle({ entry: again, part: 1, parts: 2 }, true)).toBeUndefined();
    expect(tally.settle({ entry: again, part: 0, parts: 2 }, true)).toBe(2);
  });
});

describe('read sizer', () => {
  it('reads batchSize entries of single events, and fewer as entries carry more', () => {
    const sizer = createReadSizer(200);
    expect(sizer.count()).toBe(200);
    sizer.observe(200, 200);
    expect(sizer.count()).toBe(200);
    sizer.observe(200, 3200); // full packed entries arrive
    expect(sizer.count()).toBeLessThan(25);
    for (let i = 0; i < 20; i++) sizer.observe(sizer.count(), sizer.count() * 16);
    expect(sizer.count()).toBe(12); // 12 entries × 16 events ≤ 200
    for (let i = 0; i < 40; i++) sizer.observe(sizer.count(), sizer.count());
    expect(sizer.count()).toBeGreaterThanOrEqual(199);
  });

  it('never asks for less than one entry, and ignores empty reads', () => {
    const sizer = createReadSizer(4);
    sizer.observe(1, 16);
    expect(sizer.count()).toBe(1);
    sizer.observe(0, 0);
    expect(sizer.count()).toBe(1);
  });
});
