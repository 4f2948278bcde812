import type { Redis } from 'ioredis';
import type { JobscopeEvent } from '../../events/index.js';

/**
 * What the attempt span needs from the events before the terminal one, kept in Redis because
 * any pipeline process may handle any event of a job: one small hash per attempt,
 * `{<prefix>}:otel:<jobId>:<attempt>`, with a TTL so abandoned attempts disappear.
 *
 * Fields: `r:<eventId>` = a received `{t, eq?, qw?}`, `s:<eventId>` = a start's time,
 * `p:<eventId>` = one progress point, `pn` = progress points kept, `pd` = progress points dropped
 * past the cap. (`r` and `s`, without an event id, in hashes written before 2026-12-02.)
 *
 * An attempt number can have more than one run: a job re-added with the id of one that ran
 * before counts its attempts from 1 again (so does a retry with `resetAttemptsStarted`). Each
 * run's receive and start are kept under their own event's id, and a terminal event reads the
 * run it ends: the latest receive at or before its time, the latest start between that receive
 * and its time, the progress points in between. Runs of one job id follow one another, so that
 * is the run's, even when both runs' events come in one batch.
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
  /** Oldest first. */
  progress: ProgressPoint[];
  /** Progress points not kept because the per-attempt cap was reached. */
  droppedProgress: number;
}

// KEYS[1] attempt hash
// ARGV[1] field  ARGV[2] value  ARGV[3] ttl seconds  ARGV[4] progress cap (0 = not a progress point)
// Returns 1 stored, 0 already there (a redelivery: the first write wins), -1 dropped over the cap.
const RECORD_SCRIPT = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
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

const COMMAND = 'jobscopeOtelRecordV1';

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
  /** Records the non-terminal job events of a batch (received, started, progress); others are ignored. */
  record(events: readonly JobscopeEvent[]): Promise<void>;
  /** Reads the state of the run of each `{jobId, attempt}` that ended at `endAt` (Unix ms), in order. */
  read(attempts: readonly { jobId: string; attempt: number; endAt: number }[]): Promise<AttemptState[]>;
  /** Shortens the TTL of exported attempts (kept a while so a redelivery re-exports the same spans). */
  markDone(attempts: readonly { jobId: string; attempt: number }[]): Promise<void>;
}

// On a pipeline a custom command only queues (it returns the pipeline); the answer comes from exec().
type RecordFn = (key: string, field: string, value: string, ttl: number, cap: number) => unknown;

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

  return {
    async record(events) {
      const pipeline = redis.pipeline();
      let queued = 0;
      for (const e of events) {
        const entry = fieldFor(e);
        if (!entry || !e.job) continue;
        const call = (pipeline as unknown as Record<string, RecordFn>)[COMMAND]!;
        call.call(pipeline, key(e.job.id, e.job.attempt), entry.field, entry.value, ttlSec, entry.progress ? cap : 0);
        queued++;
      }
      if (queued === 0) return;
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0]!;
    },

    async read(attempts) {
      if (attempts.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const a of attempts) pipeline.hgetall(key(a.jobId, a.attempt));
      const results = (await pipeline.exec()) ?? [];
      return results.map(([err, value], i) => {
        if (err) throw err;
        return parseState(value as Record<string, string>, attempts[i]!.endAt);
      });
    },

    async markDone(attempts) {
      if (attempts.length === 0) return;
      const pipeline = redis.pipeline();
      for (const a of attempts) pipeline.expire(key(a.jobId, a.attempt), doneTtlSec);
      await pipeline.exec();
    },
  };
}

function fieldFor(e: JobscopeEvent): { field: string; value: string; progress: boolean } | undefined {
  switch (e.type) {
    case 'job.received':
      return { field: `r:${e.id}`, value: JSON.stringify({ t: e.time, eq: e.data.enqueuedAt, qw: e.data.queueWaitMs }), progress: false };
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

/** The state of the run that ended at `endAt`, from an attempt's hash (see the top of this file). */
function parseState(hash: Record<string, string>, endAt: number): AttemptState {
  const state: AttemptState = { progress: [], droppedProgress: Number(hash.pd ?? 0) };
  const receives: { t: number; eq?: number; qw?: number }[] = [];
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
  // The run's receive: the latest at or before the end (the earliest when none is: a clock behind).
  const received = receives.findLast((r) => r.t <= endAt) ?? receives[0];
  if (received) {
    state.receivedAt = received.t;
    if (typeof received.eq === 'number') state.enqueuedAt = received.eq;
    if (typeof received.qw === 'number') state.queueWaitMs = received.qw;
  }
  // With one run every start and point is its own, whatever the clocks; with more, those between
  // the run's receive and its end.
  const mine = receives.length <= 1 ? () => true : (t: number) => t >= received!.t && t <= endAt;
  for (const t of starts) if (mine(t) && (state.startedAt === undefined || t < state.startedAt)) state.startedAt = t;
  if (receives.length > 1) state.progress = state.progress.filter((p) => mine(p.time));
  state.progress.sort((a, b) => a.time - b.time || (a.eventId < b.eventId ? -1 : 1));
  return state;
}
