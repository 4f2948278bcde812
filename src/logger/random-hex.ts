import { randomFillSync } from 'node:crypto';

/**
 * Random trace and span ids for job attempts, from a pooled buffer: one `randomFillSync` of
 * 4 KiB serves ~170 attempts, where `randomBytes(16).toString('hex')` per id costs a crypto
 * call and two allocations each (it showed up at ~5 % of a busy worker's profile). The ids
 * are the W3C trace-context forms: lower-case hex, never all zeros.
 */

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/** `bytes` random bytes as lower-case hex, never all zeros. */
function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const at = offset;
    offset += bytes;
    for (let i = at; i < at + bytes; i++) if (pool[i] !== 0) return pool.toString('hex', at, at + bytes);
  }
}

function nonZero(at: number, end: number): boolean {
  for (let i = at; i < end; i++) if (pool[i] !== 0) return true;
  return false;
}

/**
 * A new trace id and span id at once, as one string of 48 hex characters: the trace id is its
 * first 32, the span id its last 16 (neither all zeros). One conversion for both ids of an
 * attempt; `slice` then shares the characters instead of copying them.
 */
export function pooledTraceAndSpanHex(): string {
  for (;;) {
    if (offset + 24 > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const at = offset;
    offset += 24;
    if (nonZero(at, at + 16) && nonZero(at + 16, at + 24)) return pool.toString('hex', at, at + 24);
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
