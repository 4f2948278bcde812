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

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** `rand_a` as the counter: the 3 hex digits after the version digit, for every 12-bit value. */
const HEX3: string[] = Array.from({ length: 4096 }, (_, i) => i.toString(16).padStart(3, '0'));

/*
 * The id is `tttttttt-tttt-7ccc-vrrr-rrrrrrrrrrrr`: 48 bits of milliseconds, the version, a
 * 12-bit counter (rand_a) and 62 random bits (rand_b). Everything but the counter changes only
 * when the millisecond does, so it is built once per millisecond: the prefix from the time, and
 * a fresh random rand_b. Ids of one millisecond then differ by their counter, which starts at a
 * random value and only counts up (strictly increasing ids within a process); ids of different
 * processes differ by their 62 random bits.
 */
let lastMs = -1;
let counter = 0;
/** Counts the prefix/tail pairs made so far (see takeEventId). */
let run = 0;
let prefix = '';
let tail = '';

function startMillisecond(ms: number): void {
  lastMs = ms;
  run++;
  const hi = Math.floor(ms / 0x100000000);
  const lo = ms >>> 0;
  prefix = `${HEX2[(hi >>> 8) & 0xff]}${HEX2[hi & 0xff]}${HEX2[(lo >>> 24) & 0xff]}${HEX2[(lo >>> 16) & 0xff]}-${HEX2[(lo >>> 8) & 0xff]}${HEX2[lo & 0xff]}-7`;
  const r = takeRandom(10);
  counter = ((pool[r]! << 8) | pool[r + 1]!) & 0x3ff; // leave headroom for increments
  let t = `-${HEX2[0x80 | (pool[r + 2]! & 0x3f)]}${HEX2[pool[r + 3]!]}-`; // variant 10
  for (let i = 4; i < 10; i++) t += HEX2[pool[r + i]!];
  tail = t;
}

/** Returns a new UUIDv7 string, e.g. `019a1b2c-3d4e-7f60-8a1b-2c3d4e5f6a7b`. */
export function createEventId(nowMs: number = Date.now()): string {
  takeEventId(nowMs);
  return lastEventId();
}

/** Characters of an event id. */
export const EVENT_ID_LENGTH = 36;

/**
 * Takes the next id as `createEventId` does, without making its text (`lastEventId()` gives it
 * until the next id is taken), for writers that may leave the id out (a packed line that follows
 * the line before it). Returns the id's stamp: two ids are `nextEventId` of one another exactly
 * when their stamps differ by one (same prefix and tail, counter + 1), a cheaper test than
 * comparing the strings, which are not flat.
 */
export function takeEventId(nowMs: number = Date.now()): number {
  if (nowMs > lastMs) startMillisecond(nowMs);
  else if (++counter > 0xfff) startMillisecond(lastMs + 1); // same millisecond (or a clock step back)
  return run * 8192 + counter;
}

/** The text of the id taken last. */
export function lastEventId(): string {
  return prefix + HEX3[counter] + tail;
}

/**
 * The id `createEventId` returns right after `id` within the same millisecond: its counter
 * (`rand_a`) plus one, the rest unchanged. Undefined when `id` is not a UUIDv7 or its counter is
 * at its end (the next id then starts a new prefix).
 */
export function nextEventId(id: unknown): string | undefined {
  if (typeof id !== 'string' || !EVENT_ID_PATTERN.test(id)) return undefined;
  const next = parseInt(id.slice(15, 18), 16) + 1;
  return next > 0xfff ? undefined : id.slice(0, 15) + HEX3[next]! + id.slice(18);
}

/** Matches a UUIDv7 in its canonical lower-case form. */
export const EVENT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The creation time (Unix ms) encoded in a UUIDv7. */
export function eventIdTime(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
