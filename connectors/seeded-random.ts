/**
 * A small deterministic PRNG (mulberry32), so a seeded simulation gives every job the same
 * outcome on every run, whatever order the jobs run in.
 */

/** A function returning numbers in [0, 1). */
export type Random = () => number;

/** mulberry32 over a 32-bit seed. */
export function createRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string to 32 bits. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A uniform integer in [min, max]. */
export function between(random: Random, min: number, max: number): number {
  if (max <= min) return min;
  return Math.floor(min + random() * (max - min + 1));
}
