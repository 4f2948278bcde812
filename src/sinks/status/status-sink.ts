import type { Redis } from 'ioredis';
import type { JobscopeEvent } from '../../events/index.js';
import { ClosedError } from '../../errors.js';
import { statusKeys } from '../../status/status-keys.js';
import type { Sink, SinkHealth, SinkRejection, SinkWriteResult } from '../sink.js';
import { createStatusPruner, type PruneResult } from './status-pruner.js';
import { registerStatusScripts, type ApplyReply } from './status-script.js';
import { toScriptEvent } from './to-script-event.js';
import { redisHealth } from '../redis-health.js';

/**
 * The status sink: applies events to the job-status store in Redis through the apply-events
 * Lua script (atomic per call, idempotent per event id), and prunes expired index members in
 * the background. It does not own the Redis client: close() stops the pruner, not the client.
 *
 * Cost: the script groups a call's events per job and worker, so a job's events in one batch
 * cost one read and one write of its record; Redis does about 5 calls per event on a realistic
 * mix (see bench/status-latency.ts). Larger calls group more; `eventsPerCall` bounds how long
 * one call holds Redis.
 */

/** Options of {@link createStatusSink}. */
export interface StatusSinkOptions {
  /** Connection for writes (shared is fine: nothing here blocks it). */
  redis: Redis;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /**
   * Jobs and workers are kept this long after their last update, ms. Keys are re-armed at most
   * once a minute (or per 1% of the retention, if less), so they go between that much before
   * and the retention itself. Default 7 days.
   */
  retentionMs?: number;
  /** Timeline entries kept per job. Default 200. */
  timelineMax?: number;
  /** Live-feed entries kept (approximate, MAXLEN ~). Default 10000. */
  feedMax?: number;
  /** Event ids remembered per job/worker to drop duplicates. Default 1000. */
  dedupeWindow?: number;
  /**
   * Events per Lua call; the calls of one batch are pipelined. Larger calls group more events
   * of one job into one read and one write, but hold Redis longer (some 25–35 µs of Redis time
   * per event: about 6 ms for 200). Default 200; at most 1000.
   */
  eventsPerCall?: number;
  /**
   * How stale a job's score in the update-time indexes may get, in ms of event time. Index
   * membership always follows at once (a new state, worker, model… enters its index with the
   * current update time); the score in the indexes the job stays in, and in the all-jobs index,
   * is refreshed at most once per this interval, which spares most progress events 7 writes.
   * The job record's own `updatedAt` is always exact. 0 = refresh on every change. Default 1000.
   */
  indexRefreshMs?: number;
  /** Largest batch the sink wants. Default 500. */
  maxBatchSize?: number;
  /** Period of the index prune, ms; 0 turns it off. Default 60000. */
  pruneIntervalMs?: number;
  /** Most members a prune run removes per index. Default 1000. */
  pruneBatchSize?: number;
  /** Told about a failed background prune (the loop goes on). Default: ignore (counted in stats). */
  onError?: (err: Error) => void;
  /** Clock, Unix ms. Default `Date.now`. */
  now?: () => number;
}

/** Counters of a status sink since it was created. */
export interface StatusSinkStats {
  applied: number;
  duplicates: number;
  ignored: number;
  rejected: number;
  /** Batches answered with `retry`. */
  retries: number;
  pruneRuns: number;
  pruneErrors: number;
  pruned: number;
}

/** The status sink, with its counters and an on-demand prune. */
export interface StatusSink extends Sink {
  stats(): StatusSinkStats;
  /** Runs one bounded prune pass now; `now` overrides the clock (tests). */
  prune(now?: number): Promise<PruneResult>;
}

/** Default retention: 7 days, in ms. */
export const DEFAULT_STATUS_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Creates the status sink (name `status`). */
export function createStatusSink(options: StatusSinkOptions): StatusSink {
  const { redis } = options;
  const keys = statusKeys(options.prefix);
  const retentionMs = options.retentionMs ?? DEFAULT_STATUS_RETENTION_MS;
  const eventsPerCall = Math.min(1000, Math.max(1, options.eventsPerCall ?? 200));
  const fixedArgs = [
    keys.base,
    retentionMs,
    options.timelineMax ?? 200,
    options.feedMax ?? 10_000,
    options.dedupeWindow ?? 1000,
    Math.max(0, options.indexRefreshMs ?? 1000),
  ];
  const scripts = registerStatusScripts(redis);
  const pruner = createStatusPruner({
    redis,
    scripts,
    prefix: options.prefix,
    retentionMs,
    batchSize: options.pruneBatchSize,
    now: options.now,
  });
  const stats: StatusSinkStats = {
    applied: 0, duplicates: 0, ignored: 0, rejected: 0, retries: 0, pruneRuns: 0, pruneErrors: 0, pruned: 0,
  };
  let closed = false;
  let pruning: Promise<unknown> | undefined;

  async function prune(now?: number): Promise<PruneResult> {
    const r = await pruner.runOnce(now);
    stats.pruneRuns += 1;
    stats.pruned += r.removed;
    return r;
  }

  const pruneIntervalMs = options.pruneIntervalMs ?? 60_000;
  const timer =
    pruneIntervalMs > 0
      ? setInterval(() => {
          if (pruning || closed) return;
          pruning = prune()
            .catch((err: unknown) => {
              stats.pruneErrors += 1;
              options.onError?.(err instanceof Error ? err : new Error(String(err)));
            })
            .finally(() => (pruning = undefined));
        }, pruneIntervalMs)
      : undefined;
  timer?.unref();

  async function write(events: readonly JobscopeEvent[], signal: AbortSignal): Promise<SinkWriteResult> {
    if (closed) throw new ClosedError('status sink');
    if (signal.aborted) return { status: 'retry', reason: 'aborted before writing' };
    const pipeline = redis.pipeline();
    const chunks: JobscopeEvent[][] = [];
    for (let i = 0; i < events.length; i += eventsPerCall) {
      const chunk = events.slice(i, i + eventsPerCall);
      chunks.push(chunk);
      scripts.apply(pipeline, keys.feed, [...fixedArgs, ...chunk.map((e) => JSON.stringify(toScriptEvent(e)))]);
    }
    const replies = (await pipeline.exec()) ?? [];
    return interpret(chunks, replies);
  }

  function interpret(chunks: JobscopeEvent[][], replies: [Error | null, unknown][]): SinkWriteResult {
    const confirmedIds: string[] = [];
    const rejected: SinkRejection[] = [];
    let retryReason: string | undefined;
    chunks.forEach((chunk, c) => {
      const [err, reply] = replies[c] ?? [new Error('no reply from Redis'), undefined];
      if (err) {
        retryReason ??= `Redis refused the status update: ${err.message}`;
        return;
      }
      chunk.forEach((event, k) => {
        const r = (reply as ApplyReply)[k];
        if (r === 1) stats.applied += 1;
        else if (r === 0) stats.duplicates += 1;
        else if (r === 2) stats.ignored += 1;
        else if (typeof r === 'string' && /\bOOM\b|BUSY|LOADING|READONLY/.test(r)) {
          retryReason ??= `Redis could not apply event ${event.id}: ${r}`;
          return;
        } else {
          const why = String(r).replace(/^ERR (ERR )?/, '');
          rejected.push({ eventId: event.id, reason: `status store could not apply the event: ${why}` });
          return;
        }
        confirmedIds.push(event.id);
      });
    });
    stats.rejected += rejected.length;
    if (retryReason !== undefined) {
      stats.retries += 1;
      return { status: 'retry', reason: retryReason, confirmedIds, ...(rejected.length ? { rejected } : {}) };
    }
    return rejected.length > 0 ? { status: 'ok', rejected } : { status: 'ok' };
  }

  const health = (): Promise<SinkHealth> => redisHealth(redis, `job-status store under ${keys.base}*`);

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    if (timer) clearInterval(timer);
    await pruning;
  }

  return {
    name: 'status',
    maxBatchSize: options.maxBatchSize ?? 500,
    write,
    health,
    close,
    stats: () => ({ ...stats }),
    prune,
  };
}
