import type { Redis } from 'ioredis';
import type { JobscopeEvent } from '../../events/index.js';

/**
 * What the attempt span needs from the events before the terminal one, kept in Redis because
 * any pipeline process may handle any event of a job: one small hash per attempt,
 * `{<prefix>}:otel:<jobId>:<attempt>`, with a TTL so abandoned attempts disappear.
 *
 * Fields: `r` = received `{t, eq?, qw?}`, `s` = started time, `p:<eventId>` = one progress point,
 * `pn` = progress points kept, `pd` = progress points dropped past the cap.
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
  /** Reads the state of each `{jobId, attempt}`, in order. */
  read(attempts: readonly { jobId: string; attempt: number }[]): Promise<AttemptState[]>;
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
      return results.map(([err, value]) => {
        if (err) throw err;
        return parseState(value as Record<string, string>);
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
      return { field: 'r', value: JSON.stringify({ t: e.time, eq: e.data.enqueuedAt, qw: e.data.queueWaitMs }), progress: false };
    case 'job.started':
      return { field: 's', value: String(e.time), progress: false };
    case 'job.progress': {
      const d = e.data;
      const point = { t: e.time, p: d.progress, sg: d.stage, s: d.step, n: d.totalSteps };
      return { field: `p:${e.id}`, value: JSON.stringify(point), progress: true };
    }
    default:
      return undefined;
  }
}

function parseState(hash: Record<string, string>): AttemptState {
  const state: AttemptState = { progress: [], droppedProgress: Number(hash.pd ?? 0) };
  if (hash.r) {
    const r = JSON.parse(hash.r) as { t: number; eq?: number; qw?: number };
    state.receivedAt = r.t;
    if (typeof r.eq === 'number') state.enqueuedAt = r.eq;
    if (typeof r.qw === 'number') state.queueWaitMs = r.qw;
  }
  if (hash.s) state.startedAt = Number(hash.s);
  for (const [field, value] of Object.entries(hash)) {
    if (!field.startsWith('p:')) continue;
    const p = JSON.parse(value) as { t: number; p: number; sg?: string; s?: number; n?: number };
    state.progress.push({ eventId: field.slice(2), time: p.t, progress: p.p, stage: p.sg, step: p.s, totalSteps: p.n });
  }
  state.progress.sort((a, b) => a.time - b.time || (a.eventId < b.eventId ? -1 : 1));
  return state;
}
