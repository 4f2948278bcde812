import type { Redis } from 'ioredis';
import { sinkOfGroup } from './stream-entry.js';

/**
 * Reads what an operator watches on the bus: each stream's length, and per consumer group
 * the lag (entries not yet delivered to it), pending (delivered, not acknowledged) and the
 * entries it has read, summed over the shards. Groups of every sink are reported, including
 * sinks that run in other pipeline processes.
 */

/** One group's numbers, summed over the shards. */
export interface GroupStats {
  group: string;
  /** The sink name, for groups named `sink:<name>`. */
  sink?: string;
  /** Entries not yet delivered to the group (XINFO GROUPS `lag`; estimated when Redis cannot tell). */
  lag: number;
  /** Delivered but not acknowledged. */
  pending: number;
  /** Entries the group has read (`entries-read`). */
  entriesRead: number;
  consumers: number;
}

/** Stats of the bus. */
export interface StreamStats {
  streams: { stream: string; length: number }[];
  groups: GroupStats[];
  deadLetterLength: number;
}

/** Most entries walked to estimate a lag Redis reports as unknown. */
const LAG_ESTIMATE_LIMIT = 10_000;

function record(raw: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (Array.isArray(raw)) for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1];
  return out;
}

async function lagOf(redis: Redis, stream: string, g: Record<string, unknown>): Promise<number> {
  if (g.lag !== null && g.lag !== undefined) return Number(g.lag);
  // Redis cannot tell (deletions in range): count what lies after the last-delivered id, bounded.
  const rows = await redis.xrange(stream, `(${String(g['last-delivered-id'])}`, '+', 'COUNT', LAG_ESTIMATE_LIMIT);
  return rows.length;
}

/** Reads {@link StreamStats} of `streams` and the dead-letter stream. */
export async function readStreamStats(redis: Redis, streams: readonly string[], deadLetterStream: string): Promise<StreamStats> {
  const groups = new Map<string, GroupStats>();
  const lengths: StreamStats['streams'] = [];
  for (const stream of streams) {
    lengths.push({ stream, length: await redis.xlen(stream) });
    let raw: unknown[];
    try {
      raw = (await redis.call('XINFO', 'GROUPS', stream)) as unknown[];
    } catch {
      continue; // the stream does not exist (yet)
    }
    for (const row of raw) {
      const g = record(row);
      const name = String(g.name);
      const sink = sinkOfGroup(name);
      const acc: GroupStats = groups.get(name) ?? { group: name, lag: 0, pending: 0, entriesRead: 0, consumers: 0, ...(sink ? { sink } : {}) };
      acc.lag += await lagOf(redis, stream, g);
      acc.pending += Number(g.pending ?? 0);
      acc.entriesRead += Number(g['entries-read'] ?? 0);
      acc.consumers += Number(g.consumers ?? 0);
      groups.set(name, acc);
    }
  }
  return { streams: lengths, groups: [...groups.values()], deadLetterLength: await redis.xlen(deadLetterStream) };
}
