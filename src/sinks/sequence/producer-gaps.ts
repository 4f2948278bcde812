import type { Redis } from 'ioredis';
import { sequenceKeys } from './sequence-keys.js';

/**
 * The read side of the sequence check: the producers in which gaps were detected, newest
 * detection first, with their counts and the latest gap ranges. Read-only.
 */

/** One detected gap range of a producer. */
export interface ProducerGapRange {
  /** First and last missing seq, inclusive. */
  from: number;
  to: number;
  /** When the gap was declared, Unix ms. */
  detectedAtMs: number;
}

/** A producer with at least one detected gap. */
export interface ProducerGaps {
  producer: string;
  /** `machine/worker/service/connector` of its events. */
  path: string;
  serviceType: string;
  /** Events declared lost in total. */
  lost: number;
  /** Distinct seqs seen. */
  seen: number;
  /** Highest seq seen. */
  highestSeq: number;
  /** First and last event seen by the check, Unix ms. */
  firstSeenMs: number;
  lastSeenMs: number;
  /** Last detection, Unix ms. */
  lastDetectedMs: number;
  /** Latest ranges first (at most the sink's `gapListMax`). */
  gaps: ProducerGapRange[];
}

/** Options of {@link listProducerGaps}. */
export interface ListProducerGapsOptions {
  redis: Redis;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /** Most producers returned. Default 100. */
  limit?: number;
}

/** Lists the producers with detected gaps (empty when the `sequence` sink never found one). */
export async function listProducerGaps(options: ListProducerGapsOptions): Promise<ProducerGaps[]> {
  const { redis } = options;
  const keys = sequenceKeys(options.prefix);
  const limit = Math.max(1, options.limit ?? 100);
  const rows = await redis.zrevrange(keys.gapped, 0, limit - 1, 'WITHSCORES');
  if (rows.length === 0) return [];
  const producers: [string, number][] = [];
  for (let i = 0; i + 1 < rows.length; i += 2) producers.push([rows[i]!, Number(rows[i + 1])]);
  const pipeline = redis.pipeline();
  for (const [p] of producers) pipeline.hgetall(keys.producer(p)).lrange(keys.gaps(p), 0, -1);
  const replies = (await pipeline.exec()) ?? [];
  const out: ProducerGaps[] = [];
  producers.forEach(([producer, lastDetectedMs], i) => {
    const [herr, hash] = replies[2 * i] ?? [];
    const [lerr, list] = replies[2 * i + 1] ?? [];
    if (herr) throw herr;
    if (lerr) throw lerr;
    const h = hash as Record<string, string>;
    if (!h || Object.keys(h).length === 0) return; // expired since
    out.push({
      producer, lastDetectedMs,
      path: h.path ?? '', serviceType: h.svc ?? '', lost: Number(h.lost ?? 0), seen: Number(h.seen ?? 0),
      highestSeq: Number(h.high ?? -1), firstSeenMs: Number(h.first ?? 0), lastSeenMs: Number(h.last ?? 0),
      gaps: (list as string[]).map(parseRange),
    });
  });
  return out;
}

function parseRange(s: string): ProducerGapRange {
  const [from, to, at] = s.split(' ').map(Number);
  return { from: from ?? 0, to: to ?? 0, detectedAtMs: at ?? 0 };
}
