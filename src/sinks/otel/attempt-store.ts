import type { Redis } from 'ioredis';
import type { JobscopeEvent } from '../../events/index.js';

/**
 * What the attempt span needs from the events before the terminal one, kept in Redis because
 * any pipeline process may handle any event of a job: one small hash per attempt,
 * `{<prefix>}:otel:<jobId>:<attempt>`, with a TTL so abandoned attempts disappear.
 *
 * Fields: `r:<eventId>` = a received `{t, eq?, qw?, sp?, tr?}`, `rt` = the latest receive's time,
 * `e` = the trace whose enqueue span a failure of a sampled-out trace sent (first attempts),
 * `s:<eventId>` = a start's time,
 * `p:<eventId>` = one progress point, `pn` = progress points kept, `pd` = progress points dropped
 * past the cap. (`r` and `s`, without an event id, in hashes written before 2026-12-02.)
 *
 * An attempt number can have more than one run: a job re-added with the id of one that ran
 * before counts its attempts from 1 again (so does a retry with `resetAttemptsStarted`). Runs of
 * one job id follow one another, so a run's receive clears what is older than it in the hash (the
 * earlier runs' fields, and the progress count): a job id re-added every minute keeps one run's
 * fields. A batch is recorded and read in one pipeline, in the batch's order, so a terminal event
 * reads the hash as its run left it even when the next run's receive follows it in the batch; and
 * a terminal event takes the run it ends (the latest receive at or before it, the start and the
 * progress points between the two) should an earlier run's receive come late.
 */

/** One `job.progress` event, as a span event. */
export interface ProgressPoint {
  eventId: string;
  /** Unix ms. */
  time: number;
  /** Percent, 0–100. */
  progress: number;
  stage?: string;
  step?: number;
  totalSteps?: number;
}

/** What is known of an attempt before its terminal event. */
export interface AttemptState {
  /** Unix ms of `job.received`. */
  receivedAt?: number;
  /** Unix ms the job was enqueued (from `job.received`). */
  enqueuedAt?: number;
  /** The attempt's queue wait in ms (from `job.received`): since the job was ready to run, a delay excluded. */
  queueWaitMs?: number;
  /** Unix ms of `job.started`. */
  startedAt?: number;
  /** The trace of the receive (receives written before 2026-12-03 do not say). */
  traceId?: string;
  /** The trace whose enqueue span was exported with a failure of a trace sampled out (field `e`). */
  enqueueSentFor?: string;
  /** Oldest first. */
  progress: ProgressPoint[];
  /** Progress points not kept because the per-attempt cap was reached. */
  droppedProgress: number;
}

// KEYS[1] attempt hash
// ARGV[1] field  ARGV[2] value  ARGV[3] ttl seconds  ARGV[4] progress cap (0 = not a progress point)
// ARGV[5] a receive's time ('' for other fields): what is older goes first (earlier runs)
// Returns 1 stored, 0 already there (a redelivery: the first write wins), -1 dropped over the cap.
const RECORD_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
if ARGV[5] ~= '' then
  local at = tonumber(ARGV[5])
  local all = redis.call('HGETALL', KEYS[1])
  local drop, kept, latest = {}, 0, nil
  for i = 1, #all, 2 do
    local f, v = all[i], all[i + 1]
    local kind = string.sub(f, 1, 2)
    local t
    if f == 'rt' then
      latest = tonumber(v)
    elseif f == 's' or kind == 's:' then
      t = tonumber(v)
    elseif f == 'r' or kind == 'r:' or kind == 'p:' then
      local ok, d = pcall(cjson.decode, v)
      if ok and type(d) == 'table' then t = tonumber(d.t) end
    end
    if t ~= nil and t < at then
      drop[#drop + 1] = f
    elseif kind == 'p:' then
      kept = kept + 1
    end
  end
  if #drop > 0 then
    redis.call('HDEL', KEYS[1], unpack(drop))
    redis.call('HSET', KEYS[1], 'pn', kept, 'pd', 0)
  end
  if latest == nil or at > latest then redis.call('HSET', KEYS[1], 'rt', ARGV[5]) end
end
local cap = tonumber(ARGV[4])
local r = 1
if cap > 0 and tonumber(redis.call('HGET', KEYS[1], 'pn') or '0') >= cap then
  redis.call('HINCRBY', KEYS[1], 'pd', 1)
  r = -1
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  if cap > 0 then redis.call('HINCRBY', KEYS[1], 'pn', 1) end
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return r
`;

const COMMAND = 'jobscopeOtelRecordV2';

// KEYS[1] attempt hash  ARGV[1] ttl seconds  ARGV[2] the exported run's end (Unix ms)
// Shortens the TTL unless a later run's receive is in the hash (rt: the latest receive's time).
const DONE_SCRIPT = `
local latest = tonumber(redis.call('HGET', KEYS[1], 'rt') or '')
if latest ~= nil and latest > tonumber(ARGV[2]) then return 0 end
return redis.call('EXPIRE', KEYS[1], ARGV[1])
`;

const DONE_COMMAND = 'jobscopeOtelDoneV1';

// KEYS[1] first attempt's hash  ARGV[1] trace id: field e, only in a hash that is there.
const SENT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSET', KEYS[1], 'e', ARGV[1])
`;

const SENT_COMMAND = 'jobscopeOtelSentV1';

/** Options of {@link createAttemptStore}. */
export interface AttemptStoreOptions {
  redis: Redis;
  /** Key prefix (inside the hash tag). Default `jobscope`. */
  prefix?: string;
  /** How long an open attempt's state is kept, in seconds. Default 86400 (one day). */
  ttlSec?: number;
  /** How long an exported attempt's state is kept for redeliveries, in seconds. Default 3600. */
  doneTtlSec?: number;
  /** Most progress points kept per attempt; more are counted and dropped. Default 100. */
  maxProgressPoints?: number;
}

/** The Redis side of the OTel sink. */
export interface AttemptStore {
  /**
   * Records the non-terminal job events of a batch (received, started, progress) and reads the
   * state of the run each of `terminals` ends (events of the batch, a subset in its order), in one
   * pipeline in the batch's order. Returns the states, in the order of `terminals`.
   */
  recordAndRead(events: readonly JobscopeEvent[], terminals: readonly TerminalRef[]): Promise<TerminalState[]>;
  /**
   * Notes on each job's first attempt that its trace's enqueue span went out with a failure of a
   * trace the ratio sampled out, so a later attempt's failure does not send it again. Only where
   * that attempt's state still is (no key is made).
   */
  markEnqueueSent(sent: readonly { jobId: string; traceId: string }[]): Promise<void>;
  /**
   * Shortens the TTL of exported attempts (kept a while so a redelivery re-exports the same
   * spans), unless the hash holds a later run's receive (`endAt`: the exported run's end).
   */
  markDone(attempts: readonly { jobId: string; attempt: number; endAt: number }[]): Promise<void>;
}

/** A terminal event of the batch whose run's state is read. */
export interface TerminalRef {
  event: JobscopeEvent;
  jobId: string;
  attempt: number;
  /** Read the first attempt's state too (its enqueue time, for the enqueue span). */
  first?: boolean;
}

/** What {@link AttemptStore.recordAndRead} read for one terminal event. */
export interface TerminalState {
  state: AttemptState;
  /** The first attempt's, when asked for (`first`). */
  first?: AttemptState;
}

// On a pipeline a custom command only queues (it returns the pipeline); the answer comes from exec().
type RecordFn = (key: string, field: string, value: string, ttl: number, cap: number, receivedAt: number | '') => unknown;

/** Creates the attempt store. See the file comment. */
export function createAttemptStore(options: AttemptStoreOptions): AttemptStore {
  const { redis } = options;
  const prefix = options.prefix ?? 'jobscope';
  const ttlSec = options.ttlSec ?? 86_400;
  const doneTtlSec = options.doneTtlSec ?? 3_600;
  const cap = options.maxProgressPoints ?? 100;
  const key = (jobId: string, attempt: number) => `{${prefix}}:otel:${jobId}:${attempt}`;
  if (typeof (redis as unknown as Record<string, unknown>)[COMMAND] !== 'function') {
    redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: RECORD_SCRIPT });
  }
  if (typeof (redis as unknown as Record<string, unknown>)[DONE_COMMAND] !== 'function') {
    redis.defineCommand(DONE_COMMAND, { numberOfKeys: 1, lua: DONE_SCRIPT });
  }
  if (typeof (redis as unknown as Record<string, unknown>)[SENT_COMMAND] !== 'function') {
    redis.defineCommand(SENT_COMMAND, { numberOfKeys: 1, lua: SENT_SCRIPT });
  }

  return {
    async recordAndRead(events, terminals) {
      const pipeline = redis.pipeline();
      const reads = new Map<JobscopeEvent, number>();
      let queued = 0;
      let next = 0;
      for (const e of events) {
        const entry = fieldFor(e);
        if (entry && e.job) {
          const call = (pipeline as unknown as Record<string, RecordFn>)[COMMAND]!;
          call.call(pipeline, key(e.job.id, e.job.attempt), entry.field, entry.value, ttlSec, entry.progress ? cap : 0, e.type === 'job.received' ? e.time : '');
          queued++;
        }
        const t = terminals[next];
        if (t && t.event === e) {
          pipeline.hgetall(key(t.jobId, t.attempt));
          reads.set(e, queued++);
          if (t.first) {
            pipeline.hgetall(key(t.jobId, 1));
            queued++;
          }
          next++;
        }
      }
      if (next !== terminals.length) throw new Error('attempt store: terminals must be events of the batch, in its order');
      if (queued === 0) return [];
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0]!;
      const hashAt = (i: number) => results[i]![1] as Record<string, string>;
      return terminals.map((t) => {
        const at = reads.get(t.event)!;
        const state = parseState(hashAt(at), t.event.time, t.event.trace?.spanId);
        return t.first ? { state, first: parseState(hashAt(at + 1), t.event.time, undefined, t.event.trace?.traceId) } : { state };
      });
    },

    async markEnqueueSent(sent) {
      if (sent.length === 0) return;
      const pipeline = redis.pipeline();
      const mark = (pipeline as unknown as Record<string, (key: string, traceId: string) => unknown>)[SENT_COMMAND]!;
      for (const x of sent) mark.call(pipeline, key(x.jobId, 1), x.traceId);
      await pipeline.exec();
    },

    async markDone(attempts) {
      if (attempts.length === 0) return;
      const pipeline = redis.pipeline();
      const done = (pipeline as unknown as Record<string, (key: string, ttl: number, endAt: number) => unknown>)[DONE_COMMAND]!;
      for (const a of attempts) done.call(pipeline, key(a.jobId, a.attempt), doneTtlSec, a.endAt);
      await pipeline.exec();
    },
  };
}

function fieldFor(e: JobscopeEvent): { field: string; value: string; progress: boolean } | undefined {
  switch (e.type) {
    case 'job.received':
      return { field: `r:${e.id}`, value: JSON.stringify({ t: e.time, eq: e.data.enqueuedAt, qw: e.data.queueWaitMs, sp: e.trace?.spanId, tr: e.trace?.traceId }), progress: false };
    case 'job.started':
      return { field: `s:${e.id}`, value: String(e.time), progress: false };
    case 'job.progress': {
      const d = e.data;
      const point = { t: e.time, p: d.progress, sg: d.stage, s: d.step, n: d.totalSteps };
      return { field: `p:${e.id}`, value: JSON.stringify(point), progress: true };
    }
    default:
      return undefined;
  }
}

/**
 * The state of the run that ended at `endAt` with span `spanId`, from an attempt's hash (see the
 * top of this file); for another attempt's failure, the first attempt's state of trace `traceId`.
 * Its receive: the one with its span, else the latest of the trace, else the latest at or before its end,
 * else, when the hash holds a single receive of no known span (written before receives carried
 * one), that one, whatever the clocks say. A receive of another run only, after the end (the
 * next run's, this run's state gone), is none. With the run's receive the only one, every start
 * and progress point is the run's; else those between its receive and its end.
 */
function parseState(hash: Record<string, string>, endAt: number, spanId: string | undefined, traceId?: string): AttemptState {
  const state: AttemptState = { progress: [], droppedProgress: Number(hash.pd ?? 0) };
  const receives: { t: number; eq?: number; qw?: number; sp?: string; tr?: string }[] = [];
  const starts: number[] = [];
  for (const [field, value] of Object.entries(hash)) {
    if (field === 'r' || field.startsWith('r:')) receives.push(JSON.parse(value) as (typeof receives)[number]);
    else if (field === 's' || field.startsWith('s:')) starts.push(Number(value));
    else if (field.startsWith('p:')) {
      const p = JSON.parse(value) as { t: number; p: number; sg?: string; s?: number; n?: number };
      state.progress.push({ eventId: field.slice(2), time: p.t, progress: p.p, stage: p.sg, step: p.s, totalSteps: p.n });
    }
  }
  receives.sort((a, b) => a.t - b.t);
  const received =
    (spanId === undefined ? undefined : receives.find((r) => r.sp === spanId)) ??
    (traceId === undefined ? undefined : receives.findLast((r) => r.tr === traceId)) ??
    receives.findLast((r) => r.t <= endAt) ??
    (receives.length === 1 && receives[0]!.sp === undefined ? receives[0] : undefined);
  if (hash.e) state.enqueueSentFor = hash.e;
  if (received) {
    state.receivedAt = received.t;
    if (received.tr !== undefined) state.traceId = received.tr;
    if (typeof received.eq === 'number') state.enqueuedAt = received.eq;
    if (typeof received.qw === 'number') state.queueWaitMs = received.qw;
  }
  const from = received?.t ?? Number.NEGATIVE_INFINITY;
  const mine = receives.length === 0 || (receives.length === 1 && received) ? () => true : (t: number) => t >= from && t <= endAt;
  for (const t of starts) if (mine(t) && (state.startedAt === undefined || t < state.startedAt)) state.startedAt = t;
  state.progress = state.progress.filter((p) => mine(p.time));
  state.progress.sort((a, b) => a.time - b.time || (a.eventId < b.eventId ? -1 : 1));
  return state;
}
