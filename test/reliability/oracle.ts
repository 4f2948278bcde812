/**
 * The reliability oracle. Every event a scenario produces is recorded as (producer, seq, id);
 * what each sink's real peer received is an observation (event id → times seen), and the
 * dead-letter stream says which ids a sink gave up on. Per sink the oracle checks
 *   produced = delivered (unique) + dead-lettered
 * exactly, counts duplicates (at-least-once allows them, the report shows them) and lists
 * what is missing. Sequence numbers reveal gaps: what a producer numbered but nobody saw.
 */

/** One event a scenario produced. */
export interface ProducedEvent {
  producer: string;
  seq: number;
  id: string;
  type: string;
  jobId?: string;
}

/** What a sink's peer received: event id → how many times. */
export type Deliveries = ReadonlyMap<string, number>;

/** The oracle's verdict for one sink of one scenario. */
export interface SinkVerdict {
  sink: string;
  produced: number;
  /** Produced events seen at least once by the peer. */
  delivered: number;
  /** Extra copies beyond the first (at-least-once). */
  duplicates: number;
  /** Produced events not delivered but in the dead-letter stream for this sink. */
  deadLettered: number;
  /** Neither delivered nor dead-lettered: lost. */
  missing: number;
  /** Up to 10 missing ids, for the failure message. */
  missingSample: string[];
  /** Delivered ids nobody produced (should never happen). */
  unexpected: number;
}

/** Compares what was produced for a sink with what its peer and the dead-letter stream show. */
export function judgeSink(sink: string, expected: readonly ProducedEvent[], seen: Deliveries, deadLettered: ReadonlySet<string>): SinkVerdict {
  const v: SinkVerdict = { sink, produced: expected.length, delivered: 0, duplicates: 0, deadLettered: 0, missing: 0, missingSample: [], unexpected: 0 };
  const ids = new Set<string>();
  for (const e of expected) {
    ids.add(e.id);
    const n = seen.get(e.id) ?? 0;
    if (n > 0) {
      v.delivered++;
      v.duplicates += n - 1;
    } else if (deadLettered.has(e.id)) v.deadLettered++;
    else {
      v.missing++;
      if (v.missingSample.length < 10) v.missingSample.push(`${e.producer}#${e.seq} ${e.id}`);
    }
  }
  for (const id of seen.keys()) if (!ids.has(id)) v.unexpected++;
  return v;
}

/** True when nothing was lost and nothing appeared from nowhere. */
export function verdictPasses(v: SinkVerdict): boolean {
  return v.missing === 0 && v.unexpected === 0 && v.delivered + v.deadLettered === v.produced;
}

/** A gap in one producer's sequence: seqs in [from, to] never seen. */
export interface SequenceGap {
  producer: string;
  from: number;
  to: number;
}

/**
 * Gaps per producer among the (producer, seq) pairs seen, between 0 and the highest seq seen
 * (or `lastSeq` when the producer's last number is known). This is how a consumer notices
 * events lost upstream of it (a Redis that came back empty), without knowing what was sent.
 */
export function sequenceGaps(seen: Iterable<{ producer: string; seq: number }>, lastSeq: ReadonlyMap<string, number> = new Map()): SequenceGap[] {
  const byProducer = new Map<string, Set<number>>();
  for (const { producer, seq } of seen) {
    const set = byProducer.get(producer) ?? new Set<number>();
    set.add(seq);
    byProducer.set(producer, set);
  }
  for (const p of lastSeq.keys()) if (!byProducer.has(p)) byProducer.set(p, new Set());
  const gaps: SequenceGap[] = [];
  for (const [producer, seqs] of byProducer) {
    const top = Math.max(lastSeq.get(producer) ?? -1, ...seqs);
    let start: number | undefined;
    for (let s = 0; s <= top + 1; s++) {
      const hole = s <= top && !seqs.has(s);
      if (hole && start === undefined) start = s;
      if (!hole && start !== undefined) {
        gaps.push({ producer, from: start, to: s - 1 });
        start = undefined;
      }
    }
  }
  return gaps;
}

/** Events covered by a list of gaps. */
export function gapSize(gaps: readonly SequenceGap[]): number {
  return gaps.reduce((n, g) => n + g.to - g.from + 1, 0);
}

/** Counts ids in a list of observed ids (duplicates included). */
export function countIds(ids: Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const id of ids) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}
