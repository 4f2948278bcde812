import type { Redis } from 'ioredis';
import type { JobscopeEvent } from '../../events/index.js';

/**
 * The job timeline the Sentry sink turns into breadcrumbs. The sink reads every event in its
 * own consumer group, so it keeps its own capped list per job in Redis,
 * `{<prefix>}:sentry:bc:<jobId>` (any pipeline process may handle any event of the job), instead
 * of depending on the status store having applied them first.
 */

/** One remembered job event. */
export interface TimelineCrumb {
  eventId: string;
  type: string;
  /** Unix ms. */
  time: number;
  level: JobscopeEvent['level'];
  attempt: number;
  message?: string;
  data?: Record<string, unknown>;
}

/** Options of {@link createBreadcrumbStore}. */
export interface BreadcrumbStoreOptions {
  redis: Redis;
  /** Key prefix. Default `jobscope`. */
  prefix?: string;
  /** Most events kept per job (older ones are trimmed). Default 50. */
  maxPerJob?: number;
  /** Seconds a job's list is kept after its last event. Default 86400. */
  ttlSec?: number;
}

/** Per-job capped event lists in Redis. */
export interface BreadcrumbStore {
  /** Appends the job events of a batch to their jobs' lists. */
  record(events: readonly JobscopeEvent[]): Promise<void>;
  /** The remembered events of a job, oldest first, without duplicates. */
  read(jobId: string): Promise<TimelineCrumb[]>;
}

function crumbData(e: JobscopeEvent): Record<string, unknown> | undefined {
  switch (e.type) {
    case 'job.failed':
      return { errorType: e.data.error.type, error: e.data.error.message.slice(0, 256), willRetry: e.data.willRetry };
    case 'job.retrying':
      return { nextAttempt: e.data.nextAttempt, delayMs: e.data.delayMs };
    case 'job.progress':
      return { progress: e.data.progress, stage: e.data.stage };
    default:
      return typeof e.data === 'object' && e.data !== null ? (e.data as Record<string, unknown>) : undefined;
  }
}

/** Creates the breadcrumb store. See the file comment. */
export function createBreadcrumbStore(options: BreadcrumbStoreOptions): BreadcrumbStore {
  const { redis } = options;
  const prefix = options.prefix ?? 'jobscope';
  const max = options.maxPerJob ?? 50;
  const ttlSec = options.ttlSec ?? 86_400;
  const key = (jobId: string) => `{${prefix}}:sentry:bc:${jobId}`;
  return {
    async record(events) {
      const pipeline = redis.pipeline();
      let queued = 0;
      for (const e of events) {
        if (!e.job || !e.type.startsWith('job.')) continue;
        const crumb: TimelineCrumb = { eventId: e.id, type: e.type, time: e.time, level: e.level, attempt: e.job.attempt };
        if (e.message) crumb.message = e.message.slice(0, 512);
        const data = crumbData(e);
        if (data) crumb.data = data;
        pipeline.rpush(key(e.job.id), JSON.stringify(crumb)).ltrim(key(e.job.id), -max, -1).expire(key(e.job.id), ttlSec);
        queued++;
      }
      if (queued === 0) return;
      const failed = ((await pipeline.exec()) ?? []).find(([err]) => err);
      if (failed) throw failed[0]!;
    },
    async read(jobId) {
      const raw = await redis.lrange(key(jobId), 0, -1);
      const seen = new Set<string>();
      const crumbs: TimelineCrumb[] = [];
      for (const line of raw) {
        const c = JSON.parse(line) as TimelineCrumb;
        if (seen.has(c.eventId)) continue; // a redelivered event is recorded twice
        seen.add(c.eventId);
        crumbs.push(c);
      }
      return crumbs.sort((a, b) => a.time - b.time);
    },
  };
}
