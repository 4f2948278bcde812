import { randomBytes } from 'node:crypto';

/**
 * Time-ordered unique event ids: UUIDv7 (RFC 9562). The first 48 bits are the Unix time in
 * milliseconds, so ids sort by creation time; within one millisecond a 12-bit counter in
 * `rand_a` keeps ids from one process strictly increasing (RFC 9562 §6.2, method 1).
 * The id is the idempotency key of an event all the way down the pipeline.
 */

const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let poolOffset = 0;
let lastMs = -1;
let counter = 0;

/** Reserves `n` random bytes of the pool; returns their offset in `pool` (no Buffer view per id). */
function takeRandom(n: number): number {
  if (poolOffset + n > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += n;
  return at;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Returns a new UUIDv7 string, e.g. `019a1b2c-3d4e-7f60-8a1b-2c3d4e5f6a7b`. */
export function createEventId(nowMs: number = Date.now()): string {
  let ms = nowMs;
  if (ms <= lastMs) {
    // Same millisecond (or a clock step back): keep ordering with the counter.
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      ms = lastMs + 1;
      counter = 0;
    }
  } else {
    const at = takeRandom(2);
    counter = ((pool[at]! << 8) | pool[at + 1]!) & 0x3ff; // leave headroom for increments
  }
  lastMs = ms;
  const r = takeRandom(8);
  const b = new Array<string>(16);
  // 48-bit big-endian timestamp
  const hi = Math.floor(ms / 0x100000000);
  const lo = ms >>> 0;
  b[0] = HEX[(hi >>> 8) & 0xff]!;
  b[1] = HEX[hi & 0xff]!;
  b[2] = HEX[(lo >>> 24) & 0xff]!;
  b[3] = HEX[(lo >>> 16) & 0xff]!;
  b[4] = HEX[(lo >>> 8) & 0xff]!;
  b[5] = HEX[lo & 0xff]!;
  b[6] = HEX[0x70 | ((counter >>> 8) & 0x0f)]!; // version 7
  b[7] = HEX[counter & 0xff]!;
  b[8] = HEX[0x80 | (pool[r]! & 0x3f)]!; // variant 10
  for (let i = 1; i < 8; i++) b[8 + i] = HEX[pool[r + i]!]!;
  return `${b[0]}${b[1]}${b[2]}${b[3]}-${b[4]}${b[5]}-${b[6]}${b[7]}-${b[8]}${b[9]}-${b[10]}${b[11]}${b[12]}${b[13]}${b[14]}${b[15]}`;
}

/** Matches a UUIDv7 in its canonical lower-case form. */
export const EVENT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The creation time (Unix ms) encoded in a UUIDv7. */
export function eventIdTime(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
