import type { Redis } from 'ioredis';
import { deadLetterStreamKey, eventStreamKeys } from '../../events/index.js';

/** One dead-lettered event as the API lists it. */
export interface DlqEntry {
  /** Id in the dead-letter stream. */
  id: string;
  reason: string;
  /** `invalid`, `max_deliveries` or `rejected`. */
  code?: string;
  sink: string;
  deliveries: number;
  originalStream: string;
  originalId: string;
  eventId?: string;
  eventType?: string;
  /**
   * For one event of a packed entry dead-lettered alone: its index in that entry. The record
   * holds that event only, and a replay re-adds it alone.
   */
  part?: number;
  /** Unix ms when it was dead-lettered. */
  time: number;
}

/** Most entries one replay call moves. */
export const MAX_REPLAY = 10_000;

type RawEntry = [Buffer, Buffer[]];

function fieldMap(fields: readonly Buffer[]): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!.toString('latin1'), fields[i + 1]!);
  return m;
}

function eventTypeOf(payload: Buffer | undefined): string | undefined {
  if (!payload || payload.length > 256 * 1024) return undefined;
  try {
    const t = (JSON.parse(payload.toString('utf8')) as { type?: unknown }).type;
    return typeof t === 'string' ? t.slice(0, 64) : undefined;
  } catch {
    return undefined;
  }
}

function toDlqEntry([rawId, fields]: RawEntry): DlqEntry {
  const m = fieldMap(fields);
  const s = (k: string) => m.get(k)?.toString('utf8');
  const entry: DlqEntry = {
    id: rawId.toString(),
    reason: s('reason') ?? '',
    sink: s('sink') ?? '',
    deliveries: Number(s('deliveries') ?? 0),
    originalStream: s('stream') ?? '',
    originalId: s('id') ?? '',
    time: Number(s('time') ?? Number(rawId.toString().split('-')[0])),
  };
  const code = s('code');
  const eventId = s('eventId');
  const eventType = eventTypeOf(m.get('orig.e'));
  const part = s('part');
  if (code !== undefined) entry.code = code;
  if (eventId !== undefined) entry.eventId = eventId;
  if (eventType !== undefined) entry.eventType = eventType;
  if (part !== undefined && /^\d+$/.test(part)) entry.part = Number(part);
  return entry;
}

/**
 * Reads and replays the dead-letter stream written by src/bus/dead-letter.ts: each entry holds
 * `reason`, `code`, `sink`, `deliveries`, `stream`, `id`, `time`, `eventId?` and the original
 * fields as `orig.<name>`, byte for byte. A record of one event of a packed entry also holds
 * `part` (its index there) and has that event alone as `orig.v` / `orig.e`, so a replay re-adds
 * just that event, as a single-event entry; a packed entry dead-lettered whole keeps `orig.b`
 * and is replayed whole.
 */
export function createDlqStore(options: { redis: Redis; prefix: string; shards?: number }) {
  const { redis } = options;
  const key = deadLetterStreamKey({ prefix: options.prefix });
  const streams = new Set(eventStreamKeys({ prefix: options.prefix, shards: options.shards ?? 1 }));

  async function replayOne([rawId, fields]: RawEntry): Promise<boolean> {
    const m = fieldMap(fields);
    const stream = m.get('stream')?.toString('utf8');
    const orig: Buffer[] = [];
    for (const [name, value] of m) if (name.startsWith('orig.')) orig.push(Buffer.from(name.slice(5), 'latin1'), value);
    // Only back into this installation's event streams, and only entries that carry fields.
    if (stream === undefined || !streams.has(stream) || orig.length === 0) return false;
    const result = await redis.multi().xadd(stream, '*', ...orig).xdel(key, rawId).exec();
    for (const [err] of result ?? []) if (err) throw err;
    return true;
  }

  return {
    /** Newest first; `cursor` = the last id of the previous page. */
    async list(limit: number, cursor?: string): Promise<{ entries: DlqEntry[]; total: number; nextCursor?: string }> {
      const end = cursor === undefined ? '+' : `(${cursor}`;
      const [raw, total] = await Promise.all([
        redis.xrevrangeBuffer(key, end, '-', 'COUNT', limit) as unknown as Promise<RawEntry[]>,
        redis.xlen(key),
      ]);
      const entries = raw.map(toDlqEntry);
      const page: { entries: DlqEntry[]; total: number; nextCursor?: string } = { entries, total };
      if (entries.length === limit) page.nextCursor = entries[entries.length - 1]!.id;
      return page;
    },
    /** Re-adds the original fields of `ids` to their event stream and removes them here. */
    async replayIds(ids: readonly string[]): Promise<number> {
      let replayed = 0;
      for (const id of ids) {
        const raw = (await redis.xrangeBuffer(key, id, id)) as unknown as RawEntry[];
        if (raw[0] && (await replayOne(raw[0]))) replayed++;
      }
      return replayed;
    },
    /** Replays every entry, oldest first, up to {@link MAX_REPLAY}. */
    async replayAll(): Promise<number> {
      let replayed = 0;
      let start = '-';
      for (let seen = 0; seen < MAX_REPLAY; ) {
        const raw = (await redis.xrangeBuffer(key, start, '+', 'COUNT', 200)) as unknown as RawEntry[];
        if (raw.length === 0) break;
        for (const entry of raw) if (await replayOne(entry)) replayed++;
        seen += raw.length;
        start = `(${raw[raw.length - 1]![0].toString()}`;
      }
      return replayed;
    },
  };
}

/** The store returned by {@link createDlqStore}. */
export type DlqStore = ReturnType<typeof createDlqStore>;
