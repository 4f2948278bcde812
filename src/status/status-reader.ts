import type { Redis } from 'ioredis';
import { readFeedOnce } from './feed-read.js';
import { queryJobs } from './job-query.js';
import { parseJobRecord, parseTimelineEntry, parseWorkerRecord } from './record-codec.js';
import { statusKeys, workerKeyOf } from './status-keys.js';
import {
  JOB_STATES,
  type FeedReadOptions,
  type JobRecord,
  type JobState,
  type StatusReader,
  type TimelineEntry,
  type WorkerRecord,
} from './types.js';

/**
 * The read side of the job-status store: typed queries over the keys the status sink writes.
 * Read-only; it never changes the store.
 */

/** Options of {@link createStatusReader}. */
export interface StatusReaderOptions {
  /**
   * Connection for queries. `readFeed` with `blockMs > 0` holds it while it waits: give the
   * reader a connection of its own if you block, or use createFeedSubscriber.
   */
  redis: Redis;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /** Interval assumed for a worker that never said its own, ms. Default 30000. */
  defaultHeartbeatIntervalMs?: number;
  /** A worker is dead after this many heartbeat intervals of silence. Default 3. */
  deadAfterIntervals?: number;
  /** Most workers `listWorkers` returns (most recently seen first). Default 1000. */
  maxWorkers?: number;
  /** Most index members one `listJobs` call examines. Default 5000. */
  maxScan?: number;
  /** Most ids an id-prefix search considers. Default 1000. */
  maxPrefixMatches?: number;
  /** Clock, Unix ms (liveness is judged against it). Default `Date.now`. */
  now?: () => number;
}

/** The reader, with helpers beyond {@link StatusReader} that the API uses. */
export interface ExtendedStatusReader extends StatusReader {
  /** The jobs of `jobIds` that exist, in the order asked. */
  listJobsByIds(jobIds: readonly string[]): Promise<JobRecord[]>;
  /** One worker by machine and worker id. */
  getWorker(machineId: string, workerId: string): Promise<WorkerRecord | undefined>;
}

/** Creates the status reader. */
export function createStatusReader(options: StatusReaderOptions): ExtendedStatusReader {
  const { redis } = options;
  const keys = statusKeys(options.prefix);
  const clock = options.now ?? Date.now;
  const limits = { maxScan: options.maxScan ?? 5000, maxPrefixMatches: options.maxPrefixMatches ?? 1000 };
  const liveness = () => ({
    now: clock(),
    defaultHeartbeatIntervalMs: options.defaultHeartbeatIntervalMs,
    deadAfterIntervals: options.deadAfterIntervals,
  });

  async function listJobsByIds(jobIds: readonly string[]): Promise<JobRecord[]> {
    if (jobIds.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const id of jobIds) pipeline.hgetall(keys.job(id));
    const replies = (await pipeline.exec()) ?? [];
    const out: JobRecord[] = [];
    for (const [err, hash] of replies) {
      if (err) throw err;
      const r = parseJobRecord(hash as Record<string, string>);
      if (r) out.push(r);
    }
    return out;
  }

  async function readWorkers(workerKeys: readonly string[]): Promise<WorkerRecord[]> {
    if (workerKeys.length === 0) return [];
    const pipeline = redis.pipeline();
    for (const w of workerKeys) pipeline.hgetall(keys.worker(w)).smembers(keys.workerJobs(w));
    const replies = (await pipeline.exec()) ?? [];
    const opts = liveness();
    const out: WorkerRecord[] = [];
    for (let i = 0; i + 1 < replies.length; i += 2) {
      const [e1, hash] = replies[i]!;
      const [e2, jobs] = replies[i + 1]!;
      if (e1 ?? e2) throw e1 ?? e2;
      const w = parseWorkerRecord(hash as Record<string, string>, jobs as string[], opts);
      if (w) out.push(w);
    }
    return out;
  }

  return {
    async getJob(jobId) {
      return parseJobRecord(await redis.hgetall(keys.job(jobId)));
    },
    listJobs: (filter = {}, page = {}) => queryJobs(redis, keys, filter, page, limits),
    listJobsByIds,
    async getTimeline(jobId): Promise<TimelineEntry[]> {
      const items = await redis.lrange(keys.timeline(jobId), 0, -1);
      const entries = items.map(parseTimelineEntry).filter((e): e is TimelineEntry => e !== undefined);
      // Stored in arrival order; events may arrive out of order, so show them in event order.
      return entries.sort((a, b) => a.time - b.time || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    },
    async listWorkers() {
      const members = await redis.zrange(keys.workers, 0, (options.maxWorkers ?? 1000) - 1, 'REV');
      return readWorkers(members);
    },
    async getWorker(machineId, workerId) {
      return (await readWorkers([workerKeyOf(machineId, workerId)]))[0];
    },
    readFeed: (feedOptions?: FeedReadOptions) => readFeedOnce(redis, keys.feed, feedOptions),
    async oldestUpdatedAt() {
      const [, score] = await redis.zrange(keys.allJobs, 0, 0, 'WITHSCORES');
      return score === undefined ? undefined : Number(score);
    },
    async countByState() {
      const pipeline = redis.pipeline();
      for (const s of JOB_STATES) pipeline.zcard(keys.index('state', s));
      const replies = (await pipeline.exec()) ?? [];
      const counts = {} as Record<JobState, number>;
      JOB_STATES.forEach((s, i) => (counts[s] = Number(replies[i]?.[1] ?? 0)));
      return counts;
    },
  };
}
