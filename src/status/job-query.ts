import type { Redis } from 'ioredis';
import { compareListing, decodeJobCursor, encodeJobCursor, isAfter, type JobCursor } from './job-cursor.js';
import { parseJobRecord } from './record-codec.js';
import type { IndexDimension, StatusKeys } from './status-keys.js';
import type { JobFilter, JobPage, JobRecord } from './types.js';

/**
 * Job listing: walks the smallest index that matches the filter, newest first, and checks the
 * other filters on each record in memory. The walk is bounded (`maxScan` index members per
 * call): a selective combination of filters may return a short page with a cursor to go on.
 */

/** Bounds of a listing. */
export interface JobQueryLimits {
  /** Most index members examined per call. Default 5000. */
  maxScan: number;
  /** Most ids an id-prefix search considers. Default 1000. */
  maxPrefixMatches: number;
}

type Candidate = JobCursor;

const DIMENSION_FIELDS: [keyof JobFilter, IndexDimension][] = [
  ['state', 'state'],
  ['serviceType', 'service'],
  ['machineId', 'machine'],
  ['workerId', 'worker'],
  ['connectorId', 'connector'],
  ['model', 'model'],
];

function matches(r: JobRecord, f: JobFilter): boolean {
  return (
    (f.state === undefined || r.state === f.state) &&
    (f.serviceType === undefined || r.serviceType === f.serviceType) &&
    (f.machineId === undefined || r.machineId === f.machineId) &&
    (f.workerId === undefined || r.workerId === f.workerId) &&
    (f.connectorId === undefined || r.connectorId === f.connectorId) &&
    (f.model === undefined || r.ai?.model === f.model) &&
    (f.idPrefix === undefined || r.id.startsWith(f.idPrefix))
  );
}

/** The index to walk: the smallest of those the filter names (all jobs when it names none). */
async function pickIndex(redis: Redis, keys: StatusKeys, filter: JobFilter): Promise<string> {
  const named = DIMENSION_FIELDS.filter(([f]) => filter[f] !== undefined).map(([f, d]) => keys.index(d, String(filter[f])));
  if (named.length === 0) return keys.allJobs;
  if (named.length === 1) return named[0]!;
  const sizes = await Promise.all(named.map((k) => redis.zcard(k)));
  let best = 0;
  sizes.forEach((n, i) => (best = n < sizes[best]! ? i : best));
  return named[best]!;
}

/** Yields index members after `cursor`, newest first, in chunks. */
async function* walkIndex(redis: Redis, key: string, filter: JobFilter, cursor: JobCursor | undefined, chunk: number) {
  const min = filter.from ?? '-inf';
  let pos = cursor;
  let max: number | string = Math.min(cursor?.score ?? Infinity, filter.to ?? Infinity);
  if (max === Infinity) max = '+inf';
  let offset = 0;
  for (;;) {
    const raw = await redis.zrange(key, max, min, 'BYSCORE', 'REV', 'LIMIT', offset, chunk, 'WITHSCORES');
    const out: Candidate[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const c = { id: raw[i]!, score: Number(raw[i + 1]) };
      if (isAfter(c.score, c.id, pos)) out.push(c);
    }
    if (out.length > 0) yield out;
    if (raw.length < chunk * 2) return;
    const last = out[out.length - 1];
    if (last) {
      pos = last;
      max = last.score;
      offset = 0;
    } else {
      offset += chunk; // a long run of equal scores, all already seen: step over it
    }
  }
}

/** Yields the jobs whose id starts with `filter.idPrefix`, newest first, after `cursor`. */
async function* walkPrefix(redis: Redis, keys: StatusKeys, filter: JobFilter, cursor: JobCursor | undefined, limits: JobQueryLimits) {
  const prefix = filter.idPrefix ?? '';
  const ids = await redis.zrangeBuffer(
    keys.jobIdsLex,
    Buffer.from(`[${prefix}`),
    Buffer.concat([Buffer.from(`[${prefix}`), Buffer.from([0xff])]),
    'BYLEX',
    'LIMIT',
    0,
    limits.maxPrefixMatches,
  );
  if (ids.length === 0) return;
  const names = ids.map((b) => b.toString('utf8'));
  const scores = await redis.zmscore(keys.allJobs, ...names);
  const found: Candidate[] = [];
  names.forEach((id, i) => {
    const s = scores[i];
    if (s === null || s === undefined) return;
    const score = Number(s);
    if ((filter.from !== undefined && score < filter.from) || (filter.to !== undefined && score > filter.to)) return;
    if (isAfter(score, id, cursor)) found.push({ id, score });
  });
  found.sort(compareListing);
  for (let i = 0; i < found.length; i += 100) yield found.slice(i, i + 100);
}

/** Lists jobs: see the file comment. `limit` defaults to 50 and is capped at 1000. */
export async function queryJobs(
  redis: Redis,
  keys: StatusKeys,
  filter: JobFilter,
  page: { limit?: number; cursor?: string },
  limits: JobQueryLimits,
): Promise<JobPage> {
  const limit = Math.min(Math.max(1, page.limit ?? 50), 1000);
  const cursor = page.cursor ? decodeJobCursor(page.cursor) : undefined;
  const chunk = Math.min(Math.max(limit * 2, 50), 500);
  const source =
    filter.idPrefix !== undefined
      ? walkPrefix(redis, keys, filter, cursor, limits)
      : walkIndex(redis, await pickIndex(redis, keys, filter), filter, cursor, chunk);
  const jobs: JobRecord[] = [];
  let scanned = 0;
  for await (const batch of source) {
    const pipeline = redis.pipeline();
    for (const c of batch) pipeline.hgetall(keys.job(c.id));
    const replies = (await pipeline.exec()) ?? [];
    for (let i = 0; i < batch.length; i++) {
      scanned += 1;
      const [err, hash] = replies[i] ?? [];
      if (err) throw err;
      const record = parseJobRecord(hash as Record<string, string>);
      if (record && matches(record, filter)) jobs.push(record);
      if (jobs.length >= limit || scanned >= limits.maxScan) {
        return { jobs, nextCursor: encodeJobCursor(batch[i]!) };
      }
    }
  }
  return { jobs };
}
