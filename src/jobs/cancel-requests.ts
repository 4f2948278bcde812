import type { Redis } from 'ioredis';
import { bullJobId } from './job-processor.js';
import { withDeadline } from './with-deadline.js';

/**
 * Cancel requests, across processes. Whoever wants a job cancelled (API, CLI, the producer)
 * calls {@link requestCancel}: it stores the request in the queue's cancel marks and publishes
 * it on the queue's cancel channel. A running worker hears the message and aborts the running
 * attempt (the connector's `ctx.signal`); a worker that starts later loads the marks at start
 * and ends the job as soon as it runs. The job then fails as `cancelled` and is not retried.
 *
 * A mark is used up when it is applied (the attempt it ended is final): the worker that applied
 * it calls {@link CancelListener.consume}, which deletes the stored mark and tells the other
 * listeners (the queue's cancel-done channel) to forget it, so a later run of the same job id
 * (`job.retry()`, a job re-added with the same custom id) runs normally.
 *
 * The marks of a queue are two keys: a sorted set of job ids scored by when their mark expires,
 * and a hash of their reasons. A worker loads the live ones with one script call whose cost
 * grows with the marks, not with the keyspace (a key per mark would have to be found with a
 * SCAN of every key in Redis, BullMQ's jobs included, at every worker start). Each request
 * prunes the expired marks and keeps at most {@link MAX_CANCEL_MARKS}; the keys expire with
 * their last mark.
 */

/** Where the cancel marks and channel of a queue live. */
export interface CancelKeyOptions {
  /** Jobscope key prefix. Default `jobscope`. */
  prefix?: string;
  queue: string;
}

/** The pub/sub channel of a queue's cancel requests. */
export function cancelChannel(o: CancelKeyOptions): string {
  return `{${o.prefix ?? 'jobscope'}}:cancel:${o.queue}`;
}

/** The pub/sub channel on which a listener that applied a mark tells the others it is used up. */
export function cancelDoneChannel(o: CancelKeyOptions): string {
  return `{${o.prefix ?? 'jobscope'}}:cancel-done:${o.queue}`;
}

/** The sorted set of a queue's cancel marks (job id, scored by expiry in Unix ms). */
export function cancelMarksKey(o: CancelKeyOptions): string {
  return `{${o.prefix ?? 'jobscope'}}:cancels:${o.queue}`;
}

/** The hash of the marks' reasons (job id → reason). */
export function cancelReasonsKey(o: CancelKeyOptions): string {
  return `${cancelMarksKey(o)}:reasons`;
}

/** One cancel request on the channel. */
export interface CancelMessage {
  jobId: string;
  reason: string;
}

/** Default lifetime of a cancel mark, in seconds: 1 day. */
export const CANCEL_MARKER_TTL_SECONDS = 86_400;

/** Most cancel marks kept per queue; past it the ones closest to expiry go first. */
export const MAX_CANCEL_MARKS = 100_000;

/**
 * Stores one mark and publishes the request, atomically; prunes expired marks and those past
 * the cap. KEYS: marks, reasons. ARGV: job id, reason, TTL in seconds, cap, channel, message.
 * Returns how many subscribers heard the message.
 */
const REQUEST_CANCEL_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
local function drop(ids)
  if #ids > 0 then
    redis.call('ZREM', KEYS[1], unpack(ids))
    redis.call('HDEL', KEYS[2], unpack(ids))
  end
end
drop(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000))
redis.call('ZADD', KEYS[1], now + ttl * 1000, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if over > 0 then drop(redis.call('ZRANGE', KEYS[1], 0, math.min(over, 1000) - 1)) end
-- The keys go when their last mark expires (a short-lived request must not cut the others short).
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last == 2 then
  redis.call('PEXPIREAT', KEYS[1], last[2])
  redis.call('PEXPIREAT', KEYS[2], last[2])
end
return redis.call('PUBLISH', ARGV[5], ARGV[6])
`;

/**
 * The live marks, those expiring last first, at most ARGV[2]: a flat list of job id, reason.
 * KEYS: marks, reasons. ARGV[1]: the most to return.
 */
const LOAD_MARKS_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[1]))
if #ids == 0 then return {} end
local out = {}
-- HMGET in chunks: unpack takes a few thousand values at most.
for from = 1, #ids, 1000 do
  local to = math.min(from + 999, #ids)
  local reasons = redis.call('HMGET', KEYS[2], unpack(ids, from, to))
  for i = from, to do
    out[#out + 1] = ids[i]
    out[#out + 1] = reasons[i - from + 1] or ''
  end
end
return out
`;

/**
 * Deletes one mark and tells the other listeners it is used up, atomically (a request made after
 * it is stored and published after it, so no listener forgets that one).
 * KEYS: marks, reasons. ARGV: job id, cancel-done channel.
 */
const CONSUME_MARK_LUA = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('PUBLISH', ARGV[2], ARGV[1])
`;

/**
 * Requests the cancellation of a job, by BullMQ's id or by its telemetry id (`images:21`, as the
 * dashboard shows it: see bullJobId); resolves with how many workers heard it live.
 */
export async function requestCancel(
  redis: Redis,
  o: CancelKeyOptions,
  id: string,
  reason = 'cancel requested',
  ttlSeconds = CANCEL_MARKER_TTL_SECONDS,
  maxMarks = MAX_CANCEL_MARKS,
): Promise<number> {
  // Workers look requests up by BullMQ's id.
  const jobId = bullJobId(id, o.queue);
  const text = (reason || 'cancel requested').slice(0, 1024);
  const message = JSON.stringify({ jobId, reason: text } satisfies CancelMessage);
  const heard = await redis.eval(REQUEST_CANCEL_LUA, 2, cancelMarksKey(o), cancelReasonsKey(o), jobId, text, ttlSeconds, maxMarks, cancelChannel(o), message);
  return typeof heard === 'number' ? heard : 0;
}

/** Options of {@link createCancelListener}. */
export interface CancelListenerOptions extends CancelKeyOptions {
  /** A connection of its own: it enters subscriber mode. The listener closes it. */
  subscriber: Redis;
  /** A normal connection, to load the markers stored before this worker started (not closed here). */
  commands: Redis;
  onCancel(message: CancelMessage): void;
  onError?(err: unknown): void;
  /** Most cancel requests remembered for jobs not (yet) running here. Default 10000. */
  maxRemembered?: number;
}

/** A live subscription to a queue's cancel requests. */
export interface CancelListener {
  /** Resolves once subscribed and the stored markers are loaded. */
  ready: Promise<void>;
  /** The reason of a cancel request for `jobId` heard or loaded, if any. No Redis round trip. */
  pending(jobId: string): string | undefined;
  /**
   * Uses up the request for `jobId` once it has been applied (the attempt it ended is final):
   * forgets it, deletes its stored mark and tells the other listeners to forget it, so a later
   * run of the same id runs. In the background (failures go to `onError`).
   */
  consume(jobId: string): void;
  /** Requests forgotten because more than `maxRemembered` were pending. */
  readonly forgotten: number;
  close(): Promise<void>;
}

/** Longest a listener's close waits for its subscription in flight, in ms. */
const CLOSE_WAIT_MS = 1000;

/**
 * Subscribes to the cancel channel of a queue. Requests are remembered (bounded, oldest
 * forgotten first and counted) so a job that starts after its cancel request ends at once
 * without a Redis lookup per job; marks stored before the worker started are loaded at start,
 * and again after the subscriber reconnects (what was published meanwhile reached no one here).
 */
export function createCancelListener(o: CancelListenerOptions): CancelListener {
  const channel = cancelChannel(o);
  const doneChannel = cancelDoneChannel(o);
  const onError = o.onError ?? (() => undefined);
  const max = o.maxRemembered ?? 10_000;
  const remembered = new Map<string, string>();
  let forgotten = 0;
  const remember = (jobId: string, reason: string): void => {
    remembered.delete(jobId);
    remembered.set(jobId, reason);
    if (remembered.size > max) {
      remembered.delete(remembered.keys().next().value!);
      forgotten++;
    }
  };
  // Its connection errors (Redis away: one per reconnect attempt) are reported, not left to
  // ioredis, which prints an "Unhandled error event" with a stack trace for each.
  o.subscriber.on('error', onError);
  // Job ids heard (requested or used up) while the stored marks load: the load may have read a
  // mark before it was used up, or before a newer request for the same job.
  let heardWhileLoading: Set<string> | undefined;
  o.subscriber.on('message', (ch: string, text: string) => {
    if (ch === doneChannel) {
      remembered.delete(text);
      heardWhileLoading?.add(text);
      return;
    }
    if (ch !== channel) return;
    try {
      const m = JSON.parse(text) as Partial<CancelMessage>;
      if (typeof m.jobId !== 'string') return;
      const reason = typeof m.reason === 'string' && m.reason !== '' ? m.reason : 'cancel requested';
      remember(m.jobId, reason);
      heardWhileLoading?.add(m.jobId);
      o.onCancel({ jobId: m.jobId, reason });
    } catch (err) {
      onError(err);
    }
  });
  let closing: Promise<void> | undefined;
  /**
   * Subscribes, then loads the stored marks (a request made in between is stored before it is
   * published, so it is either heard or loaded): at the start, and after each reconnect of the
   * subscriber, as what was published while it was away reached no one here. Requests stored
   * meanwhile are remembered and applied to the attempts running here; marks used up meanwhile
   * (their cancel-done message missed too) are forgotten.
   */
  async function sync(): Promise<void> {
    const heard = new Set<string>();
    heardWhileLoading = heard;
    try {
      // After a reconnect ioredis subscribes again by itself; this one makes sure it happened before the load.
      await o.subscriber.subscribe(channel, doneChannel);
      const stored = new Map<string, string>();
      await loadStored(o, (jobId, reason) => stored.set(jobId, reason), max);
      if (closing) return;
      for (const jobId of [...remembered.keys()]) if (!stored.has(jobId) && !heard.has(jobId)) remembered.delete(jobId);
      for (const [jobId, reason] of stored) {
        if (remembered.has(jobId) || heard.has(jobId)) continue;
        remember(jobId, reason);
        o.onCancel({ jobId, reason });
      }
    } finally {
      if (heardWhileLoading === heard) heardWhileLoading = undefined;
    }
  }
  const ready = sync();
  // The first 'ready' is the start's (`ready` above covers it); any later one is a reconnect.
  // Not after a start that failed (a user without Pub/Sub access): that was reported once, and
  // each reconnect would fail the same way.
  let subscribed = false;
  void ready.then(
    () => (subscribed = true),
    () => undefined,
  );
  o.subscriber.on('ready', () => {
    if (subscribed && !closing) sync().catch((err: unknown) => closing || onError(err));
  });
  return {
    ready,
    pending: (jobId) => remembered.get(jobId),
    consume(jobId) {
      remembered.delete(jobId);
      o.commands.eval(CONSUME_MARK_LUA, 2, cancelMarksKey(o), cancelReasonsKey(o), jobId, doneChannel).catch(onError);
    },
    get forgotten() {
      return forgotten;
    },
    close() {
      closing ??= (async () => {
        // Let a subscribe in flight finish (up to CLOSE_WAIT_MS: with Redis away it never does).
        await withDeadline(ready.catch(() => undefined), CLOSE_WAIT_MS);
        o.subscriber.disconnect();
      })();
      return closing;
    },
  };
}

/** Loads the live marks of the queue, at most `max` (the ones expiring last). */
async function loadStored(o: CancelListenerOptions, remember: (jobId: string, reason: string) => void, max: number): Promise<void> {
  const flat = (await o.commands.eval(LOAD_MARKS_LUA, 2, cancelMarksKey(o), cancelReasonsKey(o), max)) as string[];
  // Those expiring first first, so that the newest are the last remembered (and the last forgotten).
  for (let i = flat.length - 2; i >= 0; i -= 2) remember(flat[i]!, flat[i + 1] || 'cancel requested');
}
