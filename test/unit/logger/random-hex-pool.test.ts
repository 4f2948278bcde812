import type * as Crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';

// Known "random" bytes: the first fill starts with 24 zero bytes (an all-zero trace and span
// id, which must be skipped), then byte i is i & 0xff; later fills are all 0xab.
let fills = 0;
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof Crypto>();
  return {
    ...real,
    randomFillSync: (buf: Buffer) => {
      if (fills++ === 0) for (let i = 0; i < buf.length; i++) buf[i] = i < 24 ? 0 : i & 0xff;
      else buf.fill(0xab);
      return buf;
    },
  };
});

const { pooledTraceAndSpanHex, pooledSpanId } = await import('../../../src/logger/random-hex.js');

const hexOf = (from: number, n: number) => Array.from({ length: n }, (_, k) => ((from + k) & 0xff).toString(16).padStart(2, '0')).join('');

describe('pooled ids come from the pool in order', () => {
  it('skips all-zero ids and slices each id from the bytes it reserved', () => {
    // Bytes 0..23 are zeros: skipped. The next pair is bytes 24..47, then 48..71.
    expect(pooledTraceAndSpanHex()).toBe(hexOf(24, 24));
    expect(pooledTraceAndSpanHex()).toBe(hexOf(48, 24));
    expect(pooledSpanId()).toBe(hexOf(72, 8));
  });

  it('refills with fresh bytes when the pool runs out', () => {
    let last = '';
    for (let i = 0; i < 200; i++) last = pooledTraceAndSpanHex();
    expect(fills).toBe(2);
    expect(last).toBe('ab'.repeat(24));
  });
});
