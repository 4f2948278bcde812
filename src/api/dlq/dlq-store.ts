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

/**
 * How long, in ms, a replay remembers that it put a source event back (see {@link createDlqStore}):
 * another record of that event replayed within this time is only removed. Far longer than one
 * replay call takes (at most {@link MAX_REPLAY} records, a round trip or two each), so replays
 * running at the same time always see each other's marks; short enough that the marks, one small
 * key per replayed event, do not pile up.
 */
export const REPLAY_MARK_TTL_MS = 3_600_000;

/**
 * Replays one dead-letter record, atomically: another replay of the same record (a second CLI
 * call, the route called twice, `--all` racing a single replay) either ran wholly before this one
 * or finds the record gone, so the event goes back once. The record is removed last, so an error
 * in the XADD leaves it in place to try again. The mark says this source event went back already
 * (another sink's record of it, replayed by this call or one running beside it): then the
 * record is only removed, since every sink's group reads the entry put back. The source event is
 * the stream entry the sinks failed on: the entry put back has an id of its own, so should the
 * sinks fail on it again, its records are a new source event and go back again.
 *
 * KEYS[1] dead-letter stream, KEYS[2] the record's event stream, KEYS[3] the replay mark of its
 * source event (`<dead-letter stream>:replayed:<stream>:<id>:<part>`, the dead-letter stream's slot)
 * ARGV[1] the record's id, ARGV[2] the mark's TTL in ms, ARGV[3..] the original fields and values
 * Returns 0 when the record is gone (another replay took it), 1 when it removed the record only
 * (its event went back already), 2 when it also put the event back.
 */
const REPLAY_LUA = `
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return 0 end
local result = 1
if redis.call('EXISTS', KEYS[3]) == 0 then
  local fields = {}
  for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
  local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
  redis.call('SET', KEYS[3], id, 'PX', ARGV[2])
  result = 2
end
redis.call('XDEL', KEYS[1], ARGV[1])
return result
`;

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
 *
 * Each record is replayed by one script ({@link REPLAY_LUA}), so replays running at once (two
 * CLI calls, `--all` beside a single replay, API processes side by side) share the records out:
 * each is put back by exactly one of them, and the others do not count it. Records of one source
 * event put it back once, whichever replays take them, within {@link REPLAY_MARK_TTL_MS}.
 */
export function createDlqStore(options: { redis: Redis; prefix: string; shards?: number }) {
  const { redis } = options;
  const key = deadLetterStreamKey({ prefix: options.prefix });
  const streams = new Set(eventStreamKeys({ prefix: options.prefix, shards: options.shards ?? 1 }));
  const command = 'jobscopeDlqReplay';
  if (!(command in redis)) redis.defineCommand(command, { numberOfKeys: 3, lua: REPLAY_LUA });
  const runReplay = (redis as unknown as Record<string, (dlq: string, stream: string, mark: string, ...args: (string | Buffer)[]) => Promise<number>>)[command]!.bind(redis);
  const markTtl = String(REPLAY_MARK_TTL_MS);

  /**
   * The replay mark of the source event a record holds. Every sink group that gives up on an
   * event writes a record of its own, all holding the same bytes; the entry re-added to the event
   * stream is read by every group again, so putting it back once serves all of them, and once per
   * record would deliver it to every sink once per record. The mark lives in Redis, not in the
   * call, because the records of one event may be taken by different replays running at once.
   */
  function markOf(m: Map<string, Buffer>): string {
    return `${key}:replayed:${m.get('stream')?.toString('utf8') ?? ''}:${m.get('id')?.toString('utf8') ?? ''}:${m.get('part')?.toString('utf8') ?? ''}`;
  }

  /**
   * Replays one record read from the dead-letter stream; false when it is not this call's to
   * count: another replay took it since it was read, or it cannot go back (not one of this
   * installation's streams, no original fields).
   */
  async function replayOne([rawId, fields]: RawEntry): Promise<boolean> {
    const m = fieldMap(fields);
    const stream = m.get('stream')?.toString('utf8');
    const orig: Buffer[] = [];
    for (const [name, value] of m) if (name.startsWith('orig.')) orig.push(Buffer.from(name.slice(5), 'latin1'), value);
    // Only back into this installation's event streams, and only entries that carry fields.
    if (stream === undefined || !streams.has(stream) || orig.length === 0) return false;
    return (await runReplay(key, stream, markOf(m), rawId, markTtl, ...orig)) > 0;
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
    /**
     * Re-adds the original fields of `ids` to their event stream and removes them here; returns
     * how many this call replayed. An id not there (replayed already, by this call or another
     * one, or never there) is not counted.
     */
    async replayIds(ids: readonly string[]): Promise<number> {
      let replayed = 0;
      for (const id of ids) {
        const raw = (await redis.xrangeBuffer(key, id, id)) as unknown as RawEntry[];
        if (raw[0] && (await replayOne(raw[0]))) replayed++;
      }
      return replayed;
    },
    /**
     * Replays the entries present when it starts, oldest first, up to {@link MAX_REPLAY}. The end
     * is fixed first: a replayed event the pipeline dead-letters again (still invalid, its sink
     * still failing) comes back as a newer entry, and reading on to `+` would replay those too,
     * over and over, until MAX_REPLAY. Records of one source event (one per sink) re-add it once.
     * Returns how many this call replayed: records another replay took first are not counted.
     */
    async replayAll(): Promise<number> {
      const last = (await redis.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0];
      if (last === undefined) return 0;
      let replayed = 0;
      let start = '-';
      for (let seen = 0; seen < MAX_REPLAY; ) {
        const raw = (await redis.xrangeBuffer(key, start, last, 'COUNT', Math.min(200, MAX_REPLAY - seen))) as unknown as RawEntry[];
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
