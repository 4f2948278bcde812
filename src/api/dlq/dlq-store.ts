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

  /**
   * Which source event a record holds. Every sink group that gives up on an event writes a
   * record of its own, all holding the same bytes; the entry re-added to the event stream is read
   * by every group again, so putting it back once serves all of them, and once per record would
   * deliver it to every sink once per record.
   */
  function sourceOf(m: Map<string, Buffer>): string {
    return `${m.get('stream')?.toString('utf8') ?? ''}\n${m.get('id')?.toString('utf8') ?? ''}\n${m.get('part')?.toString('utf8') ?? ''}`;
  }

  /**
   * Re-adds the record's event to its stream and deletes the record, atomically; when `done`
   * shows that this replay already re-added the same source event, only deletes the record.
   */
  async function replayOne([rawId, fields]: RawEntry, done: Set<string>): Promise<boolean> {
    const m = fieldMap(fields);
    const stream = m.get('stream')?.toString('utf8');
    const orig: Buffer[] = [];
    for (const [name, value] of m) if (name.startsWith('orig.')) orig.push(Buffer.from(name.slice(5), 'latin1'), value);
    // Only back into this installation's event streams, and only entries that carry fields.
    if (stream === undefined || !streams.has(stream) || orig.length === 0) return false;
    const source = sourceOf(m);
    const tx = redis.multi();
    if (!done.has(source)) tx.xadd(stream, '*', ...orig);
    const result = await tx.xdel(key, rawId).exec();
    for (const [err] of result ?? []) if (err) throw err;
    done.add(source);
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
      const done = new Set<string>();
      for (const id of ids) {
        const raw = (await redis.xrangeBuffer(key, id, id)) as unknown as RawEntry[];
        if (raw[0] && (await replayOne(raw[0], done))) replayed++;
      }
      return replayed;
    },
    /**
     * Replays the entries present when it starts, oldest first, up to {@link MAX_REPLAY}. The end
     * is fixed first: a replayed event the pipeline dead-letters again (still invalid, its sink
     * still failing) comes back as a newer entry, and reading on to `+` would replay those too,
     * over and over, until MAX_REPLAY. Records of one source event (one per sink) re-add it once.
     */
    async replayAll(): Promise<number> {
      const last = (await redis.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0];
      if (last === undefined) return 0;
      const done = new Set<string>();
      let replayed = 0;
      let start = '-';
      for (let seen = 0; seen < MAX_REPLAY; ) {
        const raw = (await redis.xrangeBuffer(key, start, last, 'COUNT', Math.min(200, MAX_REPLAY - seen))) as unknown as RawEntry[];
        if (raw.length === 0) break;
        for (const entry of raw) if (await replayOne(entry, done)) replayed++;
        seen += raw.length;
        start = `(${raw[raw.length - 1]![0].toString()}`;
      }
      return replayed;
    },
  };
}

/** The store returned by {@link createDlqStore}. */
export type DlqStore = ReturnType<typeof createDlqStore>;
