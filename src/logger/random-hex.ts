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
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `bytes` random bytes as lower-case hex, never all zeros. */
function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    let s = '';
    let any = 0;
    for (let i = 0; i < bytes; i++) {
      const b = pool[offset + i]!;
      any |= b;
      s += HEX[b]!;
    }
    offset += bytes;
    if (any !== 0) return s;
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
