import type { Redis } from 'ioredis';
import { deadLetterStreamKey, eventStreamKeys } from '../events/index.js';
import { listProducerGaps } from '../sinks/sequence/index.js';
import type { StatusReader } from '../status/types.js';

/**
 * The Redis-side checks of `jobscope doctor`. Each returns pass/warn/fail lines; every warn or
 * fail line says what to do about it.
 */

/** One line of the doctor's report. */
export interface CheckResult {
  status: 'pass' | 'warn' | 'fail';
  /** What was checked, e.g. `redis version`. */
  name: string;
  /** What was found and, for warn/fail, what to do. */
  detail: string;
}

/** Pending entries of a sink group above which the doctor warns. Default threshold. */
export const PENDING_WARN = 1000;
/** Unread entries (lag) of a sink group above which the doctor warns. */
export const LAG_WARN = 10_000;

const pass = (name: string, detail: string): CheckResult => ({ status: 'pass', name, detail });
const warn = (name: string, detail: string): CheckResult => ({ status: 'warn', name, detail });
const fail = (name: string, detail: string): CheckResult => ({ status: 'fail', name, detail });

/** Parses `INFO` output into a map. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return out;
}

/** True when version `a` (e.g. `7.2.4`) is at least `b`. */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < pb.length; i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** Version, eviction policy and persistence of the Redis server. */
export async function checkRedisServer(redis: Redis): Promise<CheckResult[]> {
  const info = parseInfo(await redis.info());
  const version = info.get('redis_version') ?? 'unknown';
  const out: CheckResult[] = [
    versionAtLeast(version, '6.2')
      ? pass('redis version', `${version} (≥ 6.2: XAUTOCLAIM available)`)
      : fail('redis version', `${version} is older than 6.2; crash recovery needs XAUTOCLAIM. Upgrade Redis to 6.2 or later.`),
  ];
  const policy = await configGet(redis, 'maxmemory-policy');
  if (policy === undefined) out.push(warn('maxmemory-policy', 'could not read it (CONFIG disabled?). Make sure it is noeviction: evictions silently lose events.'));
  else if (policy === 'noeviction') out.push(pass('maxmemory-policy', 'noeviction'));
  else out.push(warn('maxmemory-policy', `${policy}: Redis may evict streams and job keys under memory pressure, losing events. Set maxmemory-policy noeviction.`));
  const aof = info.get('aof_enabled') === '1';
  const save = await configGet(redis, 'save');
  const rdb = save !== undefined && save.trim() !== '';
  if (aof) out.push(pass('persistence', `AOF on${rdb ? ', RDB snapshots on' : ''}`));
  else if (rdb) out.push(warn('persistence', `RDB snapshots only (save "${save}"): a crash loses the events since the last snapshot. Turn on appendonly yes for at-least-once delivery.`));
  else out.push(warn('persistence', 'AOF and RDB are off: a Redis restart loses every stream and job status. Turn on appendonly yes.'));
  return out;
}

async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const r = (await redis.config('GET', name)) as string[];
    return r[1];
  } catch {
    return undefined;
  }
}

/** Length of each event stream and lag/pending of each sink's consumer group. */
export async function checkStreams(redis: Redis, prefix: string, shards: number): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const key of eventStreamKeys({ prefix, shards })) {
    const length = await redis.xlen(key);
    let groups: Record<string, unknown>[] = [];
    try {
      groups = ((await redis.xinfo('GROUPS', key)) as unknown[][]).map(pairsToObject);
    } catch {
      // no such stream yet
    }
    if (length === 0 && groups.length === 0) {
      out.push(warn(`stream ${key}`, 'empty, no sink groups yet: start the pipeline worker and a job worker, then run doctor again.'));
      continue;
    }
    out.push(groups.length ? pass(`stream ${key}`, `${length} entries, ${groups.length} sink group(s)`) : warn(`stream ${key}`, `${length} entries but no sink group reads it: start the pipeline worker.`));
    for (const g of groups) out.push(groupResult(g));
  }
  return out;
}

function groupResult(g: Record<string, unknown>): CheckResult {
  const name = `group ${String(g.name)}`;
  const pending = Number(g.pending ?? 0);
  const lag = g.lag === null || g.lag === undefined ? undefined : Number(g.lag);
  const consumers = Number(g.consumers ?? 0);
  const detail = `lag ${lag ?? 'unknown'}, pending ${pending}, consumers ${consumers}`;
  if (consumers === 0 && (pending > 0 || (lag ?? 0) > 0)) return warn(name, `${detail}: nobody reads this group; start the pipeline worker for sink ${String(g.name)}.`);
  if (pending > PENDING_WARN || (lag ?? 0) > LAG_WARN) return warn(name, `${detail}: the sink is falling behind or failing; check its backend and the pipeline worker's log.`);
  return pass(name, detail);
}

function pairsToObject(pairs: unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) o[String(pairs[i])] = pairs[i + 1];
  return o;
}

/** Count of dead letters. */
export async function checkDeadLetters(redis: Redis, prefix: string): Promise<CheckResult> {
  const key = deadLetterStreamKey({ prefix });
  const n = await redis.xlen(key);
  return n === 0
    ? pass('dead letters', `none in ${key}`)
    : warn('dead letters', `${n} in ${key}: inspect with "jobscope dlq list", fix the cause, then "jobscope dlq replay --all".`);
}

/** Liveness of the job workers, as the status store judges it. */
export async function checkWorkers(reader: Pick<StatusReader, 'listWorkers'>): Promise<CheckResult> {
  const workers = await reader.listWorkers();
  if (workers.length === 0) return warn('workers', 'no job worker has reported: start one (it registers with its first heartbeat) and check its REDIS_URL / JOBSCOPE_PREFIX.');
  const dead = workers.filter((w) => w.liveness === 'dead');
  const counts = ['busy', 'idle', 'dead', 'stopped'].map((l) => `${workers.filter((w) => w.liveness === l).length} ${l}`).join(', ');
  if (dead.length === 0) return pass('workers', counts);
  const names = dead.slice(0, 5).map((w) => `${w.machineId}/${w.workerId}`).join(', ');
  return warn('workers', `${counts}; no heartbeat from ${names}${dead.length > 5 ? ' …' : ''}: check those processes; their running jobs show as orphaned.`);
}

/**
 * Producers in which the `sequence` sink found gaps: events numbered by a job worker's logger
 * that never reached the event stream. One warn line per producer (at most `limit`, default 20).
 */
export async function checkProducerGaps(redis: Redis, prefix: string, limit = 20): Promise<CheckResult[]> {
  const producers = await listProducerGaps({ redis, prefix, limit });
  if (producers.length === 0) return [pass('event loss', 'no sequence gaps detected (needs the sequence sink in JOBSCOPE_SINKS)')];
  return producers.map((p) => {
    const ranges = p.gaps.slice(0, 3).map((g) => (g.from === g.to ? `${g.from}` : `${g.from}–${g.to}`)).join(', ');
    const when = new Date(p.lastDetectedMs).toISOString();
    return warn(
      `event loss ${p.path || p.producer}`,
      `producer ${p.producer}: ${p.lost} event(s) lost (seq ${ranges}${p.gaps.length > 3 ? ', …' : ''}; last detected ${when}). ` +
        'They were numbered by the job worker but never reached the event stream, e.g. Redis restarted without persistence. ' +
        'Turn on appendonly yes with appendfsync everysec (or always) on the Redis server so a restart keeps the streams.',
    );
  });
}
