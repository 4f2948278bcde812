import type { Attrs } from '../events/index.js';
import { cleanNumber, cleanText, type Issues } from './sanitize.js';

/**
 * Field types and checks of the worker-level calls of ConnectorLogger (worker started,
 * heartbeat, worker stopped, health, service events).
 */

/** Fields of `workerStarted`. */
export interface WorkerStartedFields {
  version?: string;
  concurrency?: number;
  queues?: string[];
  /** How often heartbeats will come, in ms. */
  heartbeatIntervalMs?: number;
  message?: string;
  attrs?: Attrs;
}

/** Fields of `heartbeat`. */
export interface HeartbeatFields {
  /** Ids of the jobs running now (at most 1024). */
  currentJobs: string[];
  /** How often heartbeats come, in ms. Default: the interval given to `startHeartbeats` or `workerStarted`, else 30000. */
  intervalMs?: number;
}

/** Fields of `workerStopped`. */
export interface WorkerStoppedFields {
  reason?: string;
  message?: string;
}

/** Health states of `healthCheck`. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

// eslint-disable-next-line no-control-regex -- job ids must not carry control characters
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A list of job ids: strings, at most 1024, bad ones left out. */
export function cleanJobIds(value: unknown, issues: Issues): string[] {
  if (!Array.isArray(value)) {
    issues.push('currentJobs: must be an array of job ids; sent as empty');
    return [];
  }
  const out: string[] = [];
  for (const v of value) {
    if (out.length >= 1024) {
      issues.push('currentJobs: more than 1024, the rest left out');
      break;
    }
    const id = typeof v === 'number' ? String(v) : v;
    if (typeof id === 'string' && id.length > 0 && id.length <= 256 && !CONTROL.test(id)) out.push(id);
    else issues.push('currentJobs: an entry is not a valid job id; left out');
  }
  return out;
}

/** Checks `workerStarted` fields into the event's data. */
export function workerStartedData(f: Partial<WorkerStartedFields>, issues: Issues): object {
  let queues: string[] | undefined;
  if (f.queues !== undefined) {
    if (Array.isArray(f.queues)) {
      queues = f.queues.slice(0, 64).flatMap((q, i) => cleanText(q, 128, issues, `queues[${i}]`) ?? []);
    } else issues.push('queues: must be an array of strings; left out');
  }
  let concurrency = cleanNumber(f.concurrency, 'positiveInt', issues, 'concurrency');
  if (concurrency !== undefined && concurrency > 100_000) concurrency = undefined;
  return {
    pid: process.pid,
    version: cleanText(f.version, 64, issues, 'version'),
    concurrency,
    queues,
    heartbeatIntervalMs: cleanNumber(f.heartbeatIntervalMs, 'positiveInt', issues, 'heartbeatIntervalMs'),
  };
}
