import { nextEventId } from './event-id.js';

/**
 * The lines of a packed stream entry (`v <version> [s <shared>] b <lines>`, see codec.ts) and
 * how each expands into a whole event:
 *
 * - a line is a JSON object of the event's members;
 * - members of `s` (a JSON object: a producer's `source` and `producer`) that a line leaves
 *   out are taken from `s`;
 * - `v`, when left out, is the entry's version;
 * - `"@": k` stands for the `job` and `trace` of line `k`, an earlier line of the entry;
 * - `"^": 1` says the line follows the one before it: the members it leaves out of `id`, `seq`,
 *   `level` and `time` are that line's id with its counter + 1 (see nextEventId), its seq + 1,
 *   its level and its time. Producers write it only when that gives the event's own values.
 *
 * Expansion gives raw objects; validating them against the schema is the codec's job.
 */

/** The member of a packed line that stands for the `job` and `trace` of an earlier line. */
export const ATTEMPT_REF = '@';

/** The member of a packed line that says its id, seq, level and time follow the line before it. */
export const FOLLOWS = '^';

/** A JSON object as parsed, not yet validated. */
export type RawEvent = Record<string, unknown>;

/** One expanded line: the raw event, or why the line cannot be one. */
export type ExpandedLine = { ok: true; raw: RawEvent } | { ok: false; reason: string };

const isObject = (v: unknown): v is RawEvent => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses field `s`: the members every line shares. */
export function parseSharedMembers(text: string): { ok: true; members: RawEvent } | { ok: false; reason: string } {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) return { ok: true, members: parsed };
  } catch {
    // Said below, with the field's name.
  }
  return { ok: false, reason: 'field "s" is not a JSON object' };
}

/** Options of {@link expandLines}. */
export interface ExpandOptions {
  /** Members of field `s`. */
  shared: RawEvent;
  /** The entry's schema version (for lines that leave `v` out). */
  version: number;
  /** Largest line, in bytes. */
  maxLineBytes: number;
  /** Expand lines 0..`last` only (default: all). */
  last?: number;
}

/** Fills in what a `"^": 1` line leaves out from the line before it; why it cannot, or undefined. */
function followLine(raw: RawEvent, i: number, earlier: readonly ExpandedLine[]): string | undefined {
  if (raw[FOLLOWS] !== 1) return `must be 1, got ${String(JSON.stringify(raw[FOLLOWS])).slice(0, 20)}`;
  const before = i > 0 ? earlier[i - 1] : undefined;
  if (before === undefined) return 'the first line follows no line';
  if (!before.ok) return `line ${i - 1}, which it follows, is not readable`;
  const prev = before.raw;
  delete raw[FOLLOWS];
  if (raw.id === undefined) {
    const id = nextEventId(prev.id);
    if (id === undefined) return `line ${i - 1} has no id with a next one`;
    raw.id = id;
  }
  if (raw.seq === undefined) {
    if (typeof prev.seq !== 'number') return `line ${i - 1} has no seq`;
    raw.seq = prev.seq + 1;
  }
  if (raw.level === undefined) raw.level = prev.level;
  if (raw.time === undefined) raw.time = prev.time;
  return undefined;
}

/** Expands the lines of a packed entry, in order; a bad line fails alone. */
export function expandLines(lines: readonly string[], o: ExpandOptions): ExpandedLine[] {
  const out: ExpandedLine[] = [];
  const last = Math.min(o.last ?? lines.length - 1, lines.length - 1);
  for (let i = 0; i <= last; i++) out.push(expandLine(lines[i]!, i, out, o));
  return out;
}

function expandLine(line: string, i: number, earlier: readonly ExpandedLine[], o: ExpandOptions): ExpandedLine {
  const what = `part ${i} of field "b"`;
  if (line.length === 0) return { ok: false, reason: `${what} is empty` };
  // A UTF-16 unit is at most 3 UTF-8 bytes: only a line that long can be over the limit.
  if (line.length * 3 > o.maxLineBytes) {
    const bytes = Buffer.byteLength(line);
    if (bytes > o.maxLineBytes) return { ok: false, reason: `${what} is ${bytes} bytes, over the ${o.maxLineBytes}-byte limit` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: `${what} is not valid JSON: ${(err as Error).message.slice(0, 200)}` };
  }
  if (!isObject(raw)) return { ok: false, reason: `${what} is not a JSON object` };
  if (FOLLOWS in raw) {
    const followed = followLine(raw, i, earlier);
    if (followed !== undefined) return { ok: false, reason: `${what}: "${FOLLOWS}": ${followed}` };
  }
  if (ATTEMPT_REF in raw) {
    const k = raw[ATTEMPT_REF];
    const ref = typeof k === 'number' && Number.isInteger(k) && k >= 0 && k < i ? earlier[k] : undefined;
    if (ref === undefined) {
      return { ok: false, reason: `${what}: "${ATTEMPT_REF}" must be the index of an earlier line, got ${String(JSON.stringify(k)).slice(0, 20)}` };
    }
    if (!ref.ok || ref.raw.job === undefined) {
      return { ok: false, reason: `${what}: "${ATTEMPT_REF}": ${k as number} refers to a line without a readable job` };
    }
    delete raw[ATTEMPT_REF];
    raw.job = ref.raw.job;
    if (ref.raw.trace !== undefined) raw.trace = ref.raw.trace;
  }
  for (const key in o.shared) if (!(key in raw)) raw[key] = o.shared[key];
  if (raw.v === undefined) raw.v = o.version;
  return { ok: true, raw };
}
