/**
 * Key names of the sequence check. Every key sits under the installation's `{<prefix>}` hash
 * tag, so on Redis Cluster the keys one Lua call touches share a slot.
 */

/** The keys of the sequence check of one installation. */
export interface SequenceKeys {
  /** Hash of one producer: lw, high, seen, lost, first, last, path, svc, holeSince, holeHigh. */
  producer(producer: string): string;
  /** Sorted set of one producer's seqs seen above its low-water mark (score = seq). */
  above(producer: string): string;
  /** List of one producer's detected gaps, newest first: `from to detectedAtMs`. */
  gaps(producer: string): string;
  /** Sorted set: producers with an open hole, scored by when the hole appeared (Unix ms). */
  holes: string;
  /** Sorted set: producers with a detected gap, scored by the last detection (Unix ms). */
  gapped: string;
}

/** The keys of `prefix` (default `jobscope`). */
export function sequenceKeys(prefix = 'jobscope'): SequenceKeys {
  const base = `{${prefix}}:seq:`;
  return {
    producer: (p) => `${base}p:${p}`,
    above: (p) => `${base}z:${p}`,
    gaps: (p) => `${base}g:${p}`,
    holes: `${base}holes`,
    gapped: `${base}gapped`,
  };
}
