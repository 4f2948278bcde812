import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import { compareListing, decodeJobCursor, encodeJobCursor, isAfter } from '../../../src/status/job-cursor.js';

describe('job cursor', () => {
  it('round-trips a position, ids with any characters included', () => {
    const c = { score: 1_700_000_000_123, id: 'job/é:日本 1' };
    const text = encodeJobCursor(c);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeJobCursor(text)).toEqual(c);
  });

  it('refuses what it did not produce', () => {
    for (const bad of ['', 'abc', Buffer.from('[1]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
      expect(() => decodeJobCursor(bad)).toThrow(ValidationError);
    }
  });

  it('orders newest first, then by descending id bytes, like ZRANGE REV', () => {
    const items = [
      { score: 1, id: 'b' },
      { score: 2, id: 'a' },
      { score: 1, id: 'c' },
      { score: 1, id: 'a' },
    ].sort(compareListing);
    expect(items).toEqual([
      { score: 2, id: 'a' },
      { score: 1, id: 'c' },
      { score: 1, id: 'b' },
      { score: 1, id: 'a' },
    ]);
    expect(isAfter(1, 'b', { score: 1, id: 'c' })).toBe(true);
    expect(isAfter(1, 'c', { score: 1, id: 'c' })).toBe(false);
    expect(isAfter(2, 'a', { score: 1, id: 'c' })).toBe(false);
    expect(isAfter(0, 'z', { score: 1, id: 'c' })).toBe(true);
  });
});
