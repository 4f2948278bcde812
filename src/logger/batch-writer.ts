import type { Redis } from 'ioredis';
import { SCHEMA_VERSION } from '../events/index.js';
import { TimeoutError } from '../errors.js';
import type { PendingEntry } from './event-buffer.js';

/**
 * Sends one batch of events in one round trip: one small Lua call per run of consecutive
 * entries with the same stream and producer (pipelined when there are several). The script
 * XADDs (no MAXLEN: trimming belongs to the pipeline, which knows what every group has
 * acknowledged) each entry whose `seq` this producer has not added before, so a batch whose
 * replies were lost (Redis stopped mid-batch, a timeout) is safe to resend: what Redis already
 * took is skipped, not duplicated.
 *
 * "Added before" is remembered per producer as a high-water mark plus a ring bitmap of the
 * last {@link SEQ_WINDOW} seqs, so the check is exact whatever order the seqs arrive in (a
 * spool replay after newer events, a resend after a reconnect): an entry is skipped only when
 * its own bit is set. A seq older than the window is added (a duplicate at worst, never a
 * loss: delivery is at least once).
 *
 * KEYS[1] stream, KEYS[2] high-water mark `<stream>:seq:<producer>`, KEYS[3] its bitmap
 * `<stream>:seq:<producer>:bits` (same hash tag: one slot)
 * ARGV[1] TTL in seconds, ARGV[2] schema version, ARGV[3] window size, then (seq, json) pairs.
 * Returns how many entries were added.
 */
const XADD_ONCE_LUA = `
local last = tonumber(redis.call('GET', KEYS[2]) or '-1')
local window = tonumber(ARGV[3])
local added = 0
for i = 4, #ARGV, 2 do
  local seq = tonumber(ARGV[i])
  local fresh = true
  if seq > last then
    -- Positions of the seqs skipped over still hold bits of seqs one window older: clear them.
    local from = last + 1
    if seq - from >= window then from = seq - window + 1 end
    for s = from, seq - 1 do redis.call('SETBIT', KEYS[3], s % window, 0) end
    redis.call('SETBIT', KEYS[3], seq % window, 1)
    last = seq
  elseif seq > last - window then
    fresh = redis.call('SETBIT', KEYS[3], seq % window, 1) == 0
  end
  if fresh then
    redis.call('XADD', KEYS[1], '*', 'v', ARGV[2], 'e', ARGV[i + 1])
    added = added + 1
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
  /** How many entries, from the start of the batch, Redis confirmed (added now or before). */
  confirmed: number;
  /** Why the rest was not confirmed (connection lost, timeout, a Redis error reply). */
  error?: Error;
}

type ScriptCall = (stream: string, mark: string, bits: string, args: string[]) => Promise<unknown>;
type ScriptClient = Redis & { jobscopeXaddOnce?: ScriptCall };
interface ScriptPipeline {
  jobscopeXaddOnce(stream: string, mark: string, bits: string, args: string[]): unknown;
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

/** One script call: consecutive entries with the same stream and producer. */
interface Run {
  stream: string;
  mark: string;
  bits: string;
  /** ARGV: TTL, version, window, then (seq, json) pairs. ioredis flattens the array into the command. */
  args: string[];
  count: number;
}

function splitRuns(entries: readonly PendingEntry[]): Run[] {
  const runs: Run[] = [];
  for (let i = 0; i < entries.length;) {
    const { stream, producer } = entries[i]!;
    const args: string[] = [TTL, VERSION, WINDOW];
    let j = i;
    for (; j < entries.length && entries[j]!.stream === stream && entries[j]!.producer === producer; j++) {
      args.push(String(entries[j]!.seq), entries[j]!.json);
    }
    runs.push({
      stream,
      mark: producerMarkKey(stream, producer),
      bits: producerBitsKey(stream, producer),
      args,
      count: j - i,
    });
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

/** Writes `entries` in one round trip; never rejects. */
export async function writeBatch(
  redis: Redis,
  entries: readonly PendingEntry[],
  timeoutMs: number,
): Promise<BatchResult> {
  if (entries.length === 0) return { confirmed: 0 };
  let timer: NodeJS.Timeout | undefined;
  try {
    const call = ensureScript(redis);
    const runs = splitRuns(entries);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`XADD batch of ${entries.length}`, timeoutMs)),
        timeoutMs,
      );
      timer.unref();
    });
    const results = await Promise.race([send(redis, call, runs), timeout]);
    if (!results) return { confirmed: 0, error: new Error('pipeline was discarded') };
    let confirmed = 0;
    for (let r = 0; r < results.length; r++) {
      const err = results[r]![0];
      if (err) return { confirmed, error: err };
      confirmed += runs[r]!.count;
    }
    return { confirmed };
  } catch (err) {
    return { confirmed: 0, error: err instanceof Error ? err : new Error(String(err)) };
  } finally {
    clearTimeout(timer);
  }
}
