import { randomFillSync } from 'node:crypto';

/**
 * Random trace and span ids for job attempts, from a pooled buffer: one `randomFillSync` of
 * 4 KiB, turned into hex at once, serves ~170 attempts, where `randomBytes(16).toString('hex')`
 * per id costs a crypto call, a hex conversion and two allocations each (it showed up at ~5 %
 * of a busy worker's profile, and one hex conversion per attempt still at ~0.5 %). An id is a
 * slice of the pool's hex, which shares its characters. The ids are the W3C trace-context
 * forms: lower-case hex, never all zeros.
 */

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
/** The pool as hex: byte i is characters 2i and 2i + 1. */
let poolHex = '';
let offset = POOL_BYTES;

/** Reserves `bytes` bytes of the pool, refilling it when they do not fit; returns their offset. */
function take(bytes: number): number {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    poolHex = pool.toString('hex');
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

function nonZero(at: number, end: number): boolean {
  for (let i = at; i < end; i++) if (pool[i] !== 0) return true;
  return false;
}

/** `bytes` random bytes as lower-case hex, never all zeros. */
function randomHex(bytes: number): string {
  for (;;) {
    const at = take(bytes);
    if (nonZero(at, at + bytes)) return poolHex.slice(2 * at, 2 * (at + bytes));
  }
}

/**
 * A new trace id and span id at once, as one string of 48 hex characters: the trace id is its
 * first 32, the span id its last 16 (neither all zeros).
 */
export function pooledTraceAndSpanHex(): string {
  for (;;) {
    const at = take(24);
    if (nonZero(at, at + 16) && nonZero(at + 16, at + 24)) return poolHex.slice(2 * at, 2 * (at + 24));
  }
}

/** A new W3C trace id: 32 hex characters, not all zeros. */
export function pooledTraceId(): string {
  return randomHex(16);
}

/** A new W3C span id: 16 hex characters, not all zeros. */
export function pooledSpanId(): string {
  return randomHex(8);
}
