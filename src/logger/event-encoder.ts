import type { AiUsage, Attrs, EventType, Identity, JobRef, Level, TraceRef } from '../events/index.js';
import { EVENT_ID_LENGTH, EVENT_TYPES, LEVELS, SCHEMA_VERSION } from '../events/index.js';

/**
 * Writes an event's JSON in three parts, each a list of JSON members without the braces:
 *
 * - **own**: what is new in this call (`"id":…,"time":…,"level":…,"type":…,"seq":…, … "data":…`);
 * - **attempt**: what every event of one job attempt shares (`"job":…,"trace":…`), written once
 *   when the attempt's logger first emits;
 * - **shared**: what every event of one logger shares (`"source":…,"producer":…`), written once
 *   per logger.
 *
 * The hot path stringifies only the own part. The publisher keeps the parts apart so a packed
 * stream entry can carry each attempt and the shared members once (see pack.ts); the whole
 * event, when one is needed (the spool, validation), is {@link wholeEventJson}.
 */

/** The members every event of one logger shares: `"source":…,"producer":…`. */
export function sharedMembers(source: Identity, producer: string): string {
  return JSON.stringify({ source, producer }).slice(1, -1);
}

/** The members every event of one job attempt shares: `"job":…,"trace":…`. */
export function attemptMembers(job: JobRef, trace: TraceRef): string {
  let s = `"job":{"id":${quote(job.id)},"attempt":${job.attempt}`;
  if (job.queue !== undefined) s += `,"queue":${quote(job.queue)}`;
  if (job.name !== undefined) s += `,"name":${quote(job.name)}`;
  if (job.sessionId !== undefined) s += `,"sessionId":${quote(job.sessionId)}`;
  // Trace and span ids are lower-case hex (checked where they are made or parsed).
  s += `},"trace":{"traceId":"${trace.traceId}","spanId":"${trace.spanId}"`;
  if (trace.parentSpanId !== undefined) s += `,"parentSpanId":"${trace.parentSpanId}"`;
  if (trace.sampled !== undefined) s += `,"sampled":${trace.sampled ? 'true' : 'false'}`;
  return `${s}}`;
}

/** Characters JSON.stringify would escape: `"`, `\\`, controls and lone surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are what must be escaped
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(s)`, skipping the serializer for the usual string that needs no escape. */
export function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** `,"<key>":<n>` for a number the caller checked, or nothing when it is undefined. */
export function numberMember(key: string, n: number | undefined): string {
  return n === undefined ? '' : `,"${key}":${n}`;
}

const FRACTION: string[] = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}`.replace(/\.?0+$/, ''));

/**
 * A non-negative number of milliseconds, rounded to the microsecond, as JSON: what
 * `String(Math.round(ms * 1000) / 1000)` gives, from two small integers instead of the general
 * number printer (the runtime's durations are microseconds already).
 */
export function millisText(ms: number): string {
  const us = Math.round(ms * 1000);
  if (!Number.isSafeInteger(us) || us < 0) return String(ms);
  const whole = Math.floor(us / 1000);
  return `${whole}${FRACTION[us - whole * 1000]}`;
}

/** The members of one call: `"id":…,"time":…,"level":…,"type":…,"seq":…[,"message"][,"ai"][,"attrs"],"data":…`. */
export function ownMembers(
  id: string,
  time: number,
  level: Level,
  type: EventType,
  seq: number,
  message: string | undefined,
  ai: AiUsage | undefined,
  attrs: Attrs | undefined,
  data: object | string,
): string {
  const aiJson = ai === undefined ? undefined : flatObjectJson(ai);
  const attrsJson = attrs === undefined ? undefined : flatObjectJson(attrs);
  return ownMembersJson(id, time, level, type, seq, message, aiJson, attrsJson, typeof data === 'string' ? data : flatObjectJson(data));
}

/** {@link ownMembers} with `ai`, `attrs` and `data` given as their JSON. */
export function ownMembersJson(
  id: string,
  time: number,
  level: Level,
  type: EventType,
  seq: number,
  message: string | undefined,
  ai: string | undefined,
  attrs: string | undefined,
  data: string,
): string {
  // id, level and type are safe by construction (hex + dashes, fixed enums): no escaping. The
  // level and type part is one string made in advance: fewer pieces, less to allocate.
  let s = `"id":"${id}","time":${timeText(time)}${LEVEL_TYPE[type][level]}${seq}`;
  if (message !== undefined) s += `,"message":${quote(message)}`;
  if (ai !== undefined) s += `,"ai":${ai}`;
  if (attrs !== undefined) s += `,"attrs":${attrs}`;
  return `${s},"data":${data}`;
}

/**
 * `ownMembers(id, time, level, type, seq, undefined, undefined, undefined, data).length` for any
 * event id, without making the string (what a line that leaves them out still counts against the
 * memory bound).
 */
export function plainOwnMembersLength(time: number, level: Level, type: EventType, seq: number, data: string): number {
  return 6 + EVENT_ID_LENGTH + 9 + timeText(time).length + LEVEL_TYPE[type][level].length + digits(seq) + 8 + data.length;
}

/** Decimal digits of a non-negative integer. */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** `,"level":"<level>","type":"<type>","seq":` for every type and level. */
const LEVEL_TYPE = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, Object.fromEntries(LEVELS.map((level) => [level, `,"level":"${level}","type":"${type}","seq":`]))]),
) as Record<EventType, Record<Level, string>>;

// Many events share a millisecond; a 13-digit number costs more to print than to compare.
let lastTime = -1;
let lastTimeText = '';
function timeText(ms: number): string {
  if (ms !== lastTime) {
    lastTime = ms;
    lastTimeText = String(ms);
  }
  return lastTimeText;
}

/**
 * `JSON.stringify(o)` for the small objects events carry, written by hand: the values are
 * mostly numbers, and a loop of templates is several times faster than the general
 * serializer for them. Nested objects and arrays (an error, a list of ids) go through
 * `JSON.stringify`; keys are escaped unless they are plain words.
 */
export function flatObjectJson(o: object): string {
  let s = '';
  const r = o as Record<string, unknown>;
  for (const k in r) {
    // Own properties only, as JSON.stringify (for…in also walks the prototype's enumerable ones).
    if (!Object.hasOwn(r, k)) continue;
    const v = r[k];
    let value: string;
    switch (typeof v) {
      case 'number':
        value = Number.isFinite(v) ? String(v) : 'null';
        break;
      case 'string':
        value = quote(v);
        break;
      case 'boolean':
        value = v ? 'true' : 'false';
        break;
      case 'object':
        value = v === null ? 'null' : JSON.stringify(v);
        break;
      default:
        // undefined, functions and symbols: left out, as JSON.stringify does.
        if (v === undefined || typeof v !== 'bigint') continue;
        value = JSON.stringify(v); // throws, as JSON.stringify of the object would
    }
    const key = PLAIN_KEY.test(k) ? k : quote(k).slice(1, -1);
    s += s === '' ? `{"${key}":${value}` : `,"${key}":${value}`;
  }
  return s === '' ? '{}' : `${s}}`;
}

const PLAIN_KEY = /^[A-Za-z0-9_.-]*$/;

/**
 * The whole event's JSON from its parts. It parses to the same object as `JSON.stringify` of
 * the event would (members in another order).
 */
export function wholeEventJson(own: string, shared: string, attempt: string | undefined): string {
  return attempt === undefined ? `{"v":${SCHEMA_VERSION},${own},${shared}}` : `{"v":${SCHEMA_VERSION},${own},${shared},${attempt}}`;
}
