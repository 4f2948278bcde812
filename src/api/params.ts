import { JOB_STATES, type JobState } from '../status/types.js';
import { badParameter } from './api-error.js';

/**
 * Query-parameter parsing for the routes: every failure is a 400 that names the parameter and
 * says what a valid value looks like.
 */

/** Raw query values as Hono returns them. */
export type Query = Record<string, string | undefined>;

/** An integer parameter within bounds; `defaultValue` when absent or empty. */
export function intParam(query: Query, name: string, defaultValue: number, min: number, max: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return defaultValue;
  if (!/^-?\d+$/.test(raw.trim())) throw badParameter(name, `must be a whole number between ${min} and ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw badParameter(name, `must be between ${min} and ${max} (got ${n})`);
  return n;
}

/** An optional time parameter: Unix ms, or an ISO-8601 date. */
export function timeParam(query: Query, name: string): number | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n) || n < 0) throw badParameter(name, 'must be Unix milliseconds or an ISO-8601 date');
  return n;
}

// eslint-disable-next-line no-control-regex -- ids must not carry control characters
const ID_PATTERN = /^[^\u0000-\u001f\u007f]{1,256}$/;

/** An optional identifier-like string (no control characters, at most 256 characters). */
export function idParam(query: Query, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  if (!ID_PATTERN.test(raw)) throw badParameter(name, 'must be 1-256 characters without control characters');
  return raw;
}

/** An optional job state. */
export function stateParam(query: Query, name = 'state'): JobState | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  if (!(JOB_STATES as readonly string[]).includes(raw)) throw badParameter(name, `must be one of ${JOB_STATES.join(', ')}`);
  return raw as JobState;
}

/** An optional comma-separated list drawn from `allowed`; undefined when absent. */
export function listParam<T extends string>(query: Query, name: string, allowed: readonly T[]): T[] | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw badParameter(name, `must be a comma-separated list of ${allowed.join(', ')} (got "${item.slice(0, 40)}")`);
  }
  return items as T[];
}

/** A Redis stream id (`<ms>-<seq>` or `<ms>`), for cursors and Last-Event-ID. */
export function streamIdParam(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,20}(-\d{1,20})?$/.test(value)) throw badParameter(name, 'must be a stream id such as 1700000000000-0');
  return value;
}
