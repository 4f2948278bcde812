import type { Redis } from 'ioredis';
import { SCHEMA_VERSION } from '../events/index.js';
import { TimeoutError } from '../errors.js';
import type { PendingEntry } from './event-buffer.js';
import { packEntries, type Pack } from './pack.js';

/**
 * Sends one batch of packs (pack.ts) in one round trip: one small Lua call per run of
 * consecutive packs with the same stream and producer (pipelined when there are several).
 *
 * Each pack becomes one stream entry, `v <version> s <shared> b <event lines>` (a lone whole
 * event is written as `v <version> e <json>`; the format is codec.ts's). A stream entry costs
 * Redis about the same whether it carries one event or thirty, and beyond that Redis's work
 * grows with the bytes it receives: a pack carries what its events repeat once, about a third
 * of the bytes of the same events written whole. Consumers expand a packed entry into its
 * events and acknowledge the entry once all of them are delivered.
 *
 * The script adds (no MAXLEN: trimming belongs to the pipeline, which knows what every group
 * has acknowledged) each event whose `seq` this producer has not added before, so a batch whose
 * replies were lost (Redis stopped mid-batch, a timeout) is safe to resend: what Redis already
 * took is skipped, not duplicated. "Added before" is remembered per producer as a high-water
 * mark plus a ring bitmap of the last {@link SEQ_WINDOW} seqs, so the check is exact whatever
 * order the seqs arrive in (a spool replay after newer events, a resend after a reconnect): an
 * event is skipped only when its own bit is set. A seq older than the window is added (a
 * duplicate at worst, never a loss: delivery is at least once).
 *
 * The usual pack (consecutive seqs, all newer than the mark) takes the fast path: its bits are
 * set with one BITFIELD and its payload is added as sent. Anything else (a resend, a replay, a
 * pack whose seqs are not consecutive) is split into lines and checked seq by seq.
 *
 * A pack is fixed once closed and a script runs atomically, so a resent pack is either wholly
 * added already or not at all. Should a pack ever hold both, a line left out must not be one
 * that a later line refers to (`"@"`) or follows (`"^"`): the script then keeps the pack whole
 * (a duplicate at worst).
 *
 * KEYS[1] stream, KEYS[2] high-water mark `<stream>:seq:<producer>`, KEYS[3] its bitmap
 * `<stream>:seq:<producer>:bits` (same hash tag: one slot)
 * ARGV[1] TTL in seconds, ARGV[2] schema version, ARGV[3] window size, ARGV[4] the `s` field
 * (empty: none), then per pack (seqs, payload): seqs is `<first>:<count>` for consecutive seqs,
 * else `<s1>,<s2>,…`; the payload is the pack's lines joined by "\n", in seq order.
 * Returns how many events were added.
 */
const XADD_ONCE_LUA = `
local last = tonumber(redis.call('GET', KEYS[2]) or '-1')
local window = tonumber(ARGV[3])
local added = 0
-- Sets (v = 1) or clears (v = 0) the bits of seqs from..to, at most 32 bits per BITFIELD.
local function bits(from, to, v)
  local s = from
  while s <= to do
    local pos = s % window
    local n = math.min(to - s + 1, window - pos, 32)
    redis.call('BITFIELD', KEYS[3], 'SET', 'u' .. n, pos, v * (2 ^ n - 1))
    s = s + n
  end
end
-- Marks seq as added; false when it was added before.
local function fresh(seq)
  if seq > last then
    -- Positions of the seqs skipped over still hold bits of seqs one window older: clear them.
    local from = last + 1
    if seq - from >= window then from = seq - window + 1 end
    if from <= seq - 1 then bits(from, seq - 1, 0) end
    redis.call('SETBIT', KEYS[3], seq % window, 1)
    last = seq
    return true
  elseif seq > last - window then
    return redis.call('SETBIT', KEYS[3], seq % window, 1) == 0
  end
  return true
end
local shared = ARGV[4]
local function add(lines, n)
  if n == 1 and shared == '' then
    redis.call('XADD', KEYS[1], '*', 'v', ARGV[2], 'e', lines)
  elseif n >= 1 and shared == '' then
    redis.call('XADD', KEYS[1], '*', 'v', ARGV[2], 'b', lines)
  elseif n >= 1 then
    redis.call('XADD', KEYS[1], '*', 'v', ARGV[2], 's', shared, 'b', lines)
  end
  added = added + n
end
for i = 5, #ARGV, 2 do
  local spec, payload = ARGV[i], ARGV[i + 1]
  local colon = string.find(spec, ':', 1, true)
  local seqs = {}
  if colon then
    local first = tonumber(string.sub(spec, 1, colon - 1))
    local count = tonumber(string.sub(spec, colon + 1))
    local top = first + count - 1
    if first > last and count <= window then
      local from = last + 1
      if top - from >= window then from = top - window + 1 end
      if from <= first - 1 then bits(from, first - 1, 0) end
      bits(first, top, 1)
      last = top
      add(payload, count)
      seqs = nil
    else
      for s = first, top do seqs[#seqs + 1] = s end
    end
  else
    for s in string.gmatch(spec, '[^,]+') do seqs[#seqs + 1] = tonumber(s) end
  end
  if seqs then
    local keep, pos = {}, 1
    for k = 1, #seqs do
      local stop = string.find(payload, '\\n', pos, true)
      local line = string.sub(payload, pos, (stop or 0) - 1)
      if stop then pos = stop + 1 else pos = #payload + 1 end
      if fresh(seqs[k]) then keep[#keep + 1] = line end
    end
    if #keep > 0 and #keep < #seqs and (string.find(payload, '"@":', 1, true) or string.find(payload, '"^":', 1, true)) then
      -- Cutting a line could leave a reference to it dangling, or a line following it (\`"^"\`)
      -- without what it follows: keep the pack whole.
      add(payload, #seqs)
    else
      add(table.concat(keep, '\\n'), #keep)
    end
  end
end
redis.call('SET', KEYS[2], last, 'EX', ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[1])
return added
`;

/** Seqs per producer whose "already added" bit is remembered (8 KiB of bitmap per producer and stream). */
export const SEQ_WINDOW = 65_536;

/** How long a producer's high-water mark outlives its last batch, in seconds (7 days). */
export const PRODUCER_MARK_TTL_SECONDS = 7 * 24 * 3600;

/** The key of a producer's high-water mark for one stream. */
export function producerMarkKey(stream: string, producer: string): string {
  return `${stream}:seq:${producer}`;
}

/** The key of a producer's seq bitmap for one stream. */
export function producerBitsKey(stream: string, producer: string): string {
  return `${producerMarkKey(stream, producer)}:bits`;
}

/** The outcome of one batch. */
export interface BatchResult {
  /** How many events, from the start of the batch, Redis confirmed (added now or before). */
  confirmed: number;
  /** Why the rest was not confirmed (connection lost, timeout, a Redis error reply). */
  error?: Error;
}

/** The outcome of one batch of packs: {@link BatchResult}, and how many whole packs that is. */
export interface PacksResult extends BatchResult {
  /** Packs, from the start of the batch, Redis confirmed. */
  packs: number;
}

type ScriptCall = (stream: string, mark: string, bits: string, args: (string | Buffer)[]) => Promise<unknown>;
type ScriptClient = Redis & { jobscopeXaddOnce?: ScriptCall };
interface ScriptPipeline {
  jobscopeXaddOnce(stream: string, mark: string, bits: string, args: (string | Buffer)[]): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
}

const VERSION = String(SCHEMA_VERSION);
const TTL = String(PRODUCER_MARK_TTL_SECONDS);
const WINDOW = String(SEQ_WINDOW);

function ensureScript(redis: ScriptClient): ScriptCall {
  if (typeof redis.jobscopeXaddOnce !== 'function') {
    redis.defineCommand('jobscopeXaddOnce', { numberOfKeys: 3, lua: XADD_ONCE_LUA });
  }
  return redis.jobscopeXaddOnce!.bind(redis);
}

/** One script call: consecutive packs with the same stream, producer and shared members. */
interface Run {
  stream: string;
  mark: string;
  bits: string;
  /** ARGV: TTL, version, window, `s`, then (seqs, payload) per pack. ioredis flattens the array into the command. */
  args: (string | Buffer)[];
  /** Packs and events in the run. */
  packs: number;
  events: number;
}

/** The seqs argument of a pack: `<first>:<count>`, or the list when they are not consecutive. */
function seqSpec(p: Pack): string {
  return p.seqs === undefined ? `${p.firstSeq}:${p.count}` : p.seqs.join(',');
}

/** Groups packs into script calls. */
function splitRuns(packs: readonly Pack[]): Run[] {
  const runs: Run[] = [];
  for (let i = 0; i < packs.length; ) {
    const { stream, producer, shared } = packs[i]!;
    const args: (string | Buffer)[] = [TTL, VERSION, WINDOW, shared];
    let events = 0;
    let j = i;
    for (; j < packs.length; j++) {
      const p = packs[j]!;
      if (p.stream !== stream || p.producer !== producer || p.shared !== shared) break;
      args.push(seqSpec(p), p.payload);
      events += p.count;
    }
    runs.push({ stream, mark: producerMarkKey(stream, producer), bits: producerBitsKey(stream, producer), args, packs: j - i, events });
    i = j;
  }
  return runs;
}

/**
 * Sends the runs: the usual single run (one producer, one shard) as one plain EVALSHA, with
 * no pipeline object to build; several runs as one pipeline. Results as `pipeline.exec` gives.
 */
async function send(
  redis: ScriptClient,
  call: ScriptCall,
  runs: Run[],
): Promise<[Error | null, unknown][] | null> {
  if (runs.length === 1) {
    const r = runs[0]!;
    try {
      return [[null, await call(r.stream, r.mark, r.bits, r.args)]];
    } catch (err) {
      return [[err instanceof Error ? err : new Error(String(err)), null]];
    }
  }
  const pipeline = redis.pipeline() as unknown as ScriptPipeline;
  for (const r of runs) pipeline.jobscopeXaddOnce(r.stream, r.mark, r.bits, r.args);
  return pipeline.exec();
}

/** Writes packs in one round trip; never rejects. */
export async function writePacks(redis: Redis, packs: readonly Pack[], timeoutMs: number): Promise<PacksResult> {
  if (packs.length === 0) return { confirmed: 0, packs: 0 };
  let timer: NodeJS.Timeout | undefined;
  try {
    const call = ensureScript(redis);
    const runs = splitRuns(packs);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`XADD batch of ${runs.reduce((n, r) => n + r.events, 0)}`, timeoutMs)), timeoutMs);
      timer.unref();
    });
    const results = await Promise.race([send(redis, call, runs), timeout]);
    if (!results) return { confirmed: 0, packs: 0, error: new Error('pipeline was discarded') };
    let confirmed = 0;
    let done = 0;
    for (let r = 0; r < results.length; r++) {
      const err = results[r]![0];
      if (err) return { confirmed, packs: done, error: err };
      confirmed += runs[r]!.events;
      done += runs[r]!.packs;
    }
    return { confirmed, packs: done };
  } catch (err) {
    return { confirmed: 0, packs: 0, error: err instanceof Error ? err : new Error(String(err)) };
  } finally {
    clearTimeout(timer);
  }
}

/** Packs `entries` (see pack.ts) and writes them in one round trip; never rejects. */
export async function writeBatch(redis: Redis, entries: readonly PendingEntry[], timeoutMs: number): Promise<BatchResult> {
  const r = await writePacks(redis, packEntries(entries), timeoutMs);
  return r.error ? { confirmed: r.confirmed, error: r.error } : { confirmed: r.confirmed };
}
