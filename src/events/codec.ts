import { eventSchema, SCHEMA_VERSION, type JobscopeEvent } from './schema.js';
import { formatIssues } from '../errors.js';
import { zodIssues } from './zod-issues.js';
import { ATTEMPT_REF, expandLines, FOLLOWS, parseSharedMembers, type ExpandOptions, type RawEvent } from './packed-entry.js';

/**
 * The codec between events and Redis stream entries. An entry is one of
 *
 * - single: `v <version> e <event JSON>`, one whole event;
 * - packed: `v <version> [s <shared JSON>] b <lines>`: up to {@link MAX_EVENTS_PER_ENTRY}
 *   events, one JSON object per line (JSON.stringify never emits a raw newline). A stream
 *   entry costs Redis about the same whatever it carries, and Redis's work grows with the
 *   bytes it receives, so a producer packs runs of events and writes what they repeat once:
 *   - `s`, when present, is a JSON object of members every event of the entry has (a
 *     producer's `source` and `producer`): a line leaves them out;
 *   - a line may leave out `v` (the entry's version);
 *   - a line may carry `"@": k` in place of its `job` and `trace`: they are those of line `k`,
 *     an earlier line of the same entry (the events of one job attempt share them).
 *
 *   A reader expands each line into the whole event, which then behaves exactly as if it had
 *   been written alone ({@link standaloneEventJson} gives that event's JSON for one line).
 *
 * The version sits outside the JSON so a reader can refuse a version it does not know before
 * parsing anything, and say so. A packed entry fails as a whole only for what concerns the
 * entry (version, encoding, size, event count, a bad `s`); a bad line fails alone, and its
 * neighbours still decode.
 */

/** The largest event payload (an `e` field, or one line of a `b` field) a reader accepts, in bytes. */
export const MAX_ENTRY_BYTES = 256 * 1024;

/** The largest `b` field (all the lines of a packed entry) a reader accepts, in bytes. */
export const MAX_PACKED_ENTRY_BYTES = 4 * 1024 * 1024;

/** Most events a packed entry holds; a reader refuses more (it bounds what one read expands to). */
export const MAX_EVENTS_PER_ENTRY = 64;

/** The field of a packed entry: event JSON lines joined by "\n". */
export const PACKED_FIELD = 'b';

/** Field names of a stream entry. */
export const ENTRY_FIELDS = { version: 'v', event: 'e', packed: PACKED_FIELD, shared: 's' } as const;

/** Result of decoding one event: the event, or why it was rejected. */
export type DecodeResult =
  | { ok: true; event: JobscopeEvent }
  | {
      ok: false;
      /** What is wrong, in words, naming the field; goes into the dead-letter entry. */
      reason: string;
      /** The event id, when the payload had a readable one. */
      eventId?: string;
    };

/**
 * Result of decoding every event of one stream entry: why the entry as a whole cannot be read
 * (it is dead-lettered whole), or one result per event, in order (an `e` entry gives one).
 */
export type EntryDecodeResult =
  | {
      ok: true;
      /** True for a packed (`b`) entry, even one of a single line. */
      packed: boolean;
      parts: DecodeResult[];
    }
  | { ok: false; reason: string; eventId?: string };

/** Serializes an event to the JSON payload of an entry (no validation: the producer built it). */
export function encodeEventJson(event: JobscopeEvent): string {
  return JSON.stringify(event);
}

/** The flat `[field, value, …]` list to pass to XADD for a single-event entry. */
export function encodeEntry(event: JobscopeEvent): string[] {
  return [ENTRY_FIELDS.version, String(SCHEMA_VERSION), ENTRY_FIELDS.event, encodeEventJson(event)];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fieldText(value: string | Buffer): string | { error: string } {
  if (typeof value === 'string') return value;
  try {
    return utf8.decode(value);
  } catch {
    return { error: 'is not valid UTF-8' };
  }
}

const byteLength = (value: string | Buffer): number => (typeof value === 'string' ? Buffer.byteLength(value) : value.length);

/** The `v`, `e` and `b` values of an entry's `[field, value, …]` list. */
interface EntryFieldValues {
  version?: string | Buffer;
  event?: string | Buffer;
  packed?: string | Buffer;
  shared?: string | Buffer;
}

function entryFields(fields: readonly (string | Buffer)[]): EntryFieldValues {
  const out: EntryFieldValues = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    if (name === ENTRY_FIELDS.version) out.version = fields[i + 1];
    else if (name === ENTRY_FIELDS.event) out.event = fields[i + 1];
    else if (name === ENTRY_FIELDS.packed) out.packed = fields[i + 1];
    else if (name === ENTRY_FIELDS.shared) out.shared = fields[i + 1];
  }
  return out;
}

/**
 * Decodes every event of a stream entry's fields (as returned by XRANGE/XREADGROUP, strings or
 * Buffers), single or packed. Never throws: a problem of the entry becomes `{ ok: false }`, a
 * problem of one event a failed part.
 */
export function decodeEntryEvents(fields: readonly (string | Buffer)[]): EntryDecodeResult {
  const f = entryFields(fields);
  if (f.version === undefined) return { ok: false, reason: 'missing field "v" (schema version)' };
  const v = f.version.toString();
  if (v !== String(SCHEMA_VERSION)) {
    return {
      ok: false,
      reason: `unsupported schema version "${v.slice(0, 32)}" (this build reads ${SCHEMA_VERSION}); upgrade the pipeline or fix the producer`,
    };
  }
  if (f.event !== undefined && f.packed !== undefined) {
    return { ok: false, reason: 'has both field "e" (one event) and field "b" (packed events); a producer writes one or the other' };
  }
  if (f.event !== undefined) {
    const size = byteLength(f.event);
    if (size > MAX_ENTRY_BYTES) return { ok: false, reason: `field "e" is ${size} bytes, over the ${MAX_ENTRY_BYTES}-byte limit` };
    const text = fieldText(f.event);
    if (typeof text !== 'string') return { ok: false, reason: `field "e" ${text.error}` };
    return { ok: true, packed: false, parts: [decodeEventJson(text)] };
  }
  if (f.packed === undefined) return { ok: false, reason: 'missing field "e" (event JSON) or "b" (packed event JSON lines)' };
  return decodePacked(f.packed, f.shared, Number(v));
}

function decodePacked(payload: string | Buffer, sharedField: string | Buffer | undefined, version: number): EntryDecodeResult {
  const read = readPacked(payload, sharedField, version);
  if (!read.ok) return read;
  const parts = expandLines(read.lines, read.options).map((line, i): DecodeResult => (line.ok ? validate(line.raw, `part ${i} of field "b"`) : { ok: false, reason: line.reason }));
  return { ok: true, packed: true, parts };
}

/** The lines of a packed entry and how to expand them, or why the entry cannot be read. */
function readPacked(
  payload: string | Buffer,
  sharedField: string | Buffer | undefined,
  version: number,
): { ok: true; lines: string[]; options: ExpandOptions } | { ok: false; reason: string } {
  const size = byteLength(payload);
  if (size > MAX_PACKED_ENTRY_BYTES) {
    return { ok: false, reason: `field "b" is ${size} bytes, over the ${MAX_PACKED_ENTRY_BYTES}-byte limit` };
  }
  const text = fieldText(payload);
  if (typeof text !== 'string') return { ok: false, reason: `field "b" ${text.error}` };
  let shared: RawEvent = {};
  if (sharedField !== undefined) {
    const sharedSize = byteLength(sharedField);
    if (sharedSize > MAX_ENTRY_BYTES) return { ok: false, reason: `field "s" is ${sharedSize} bytes, over the ${MAX_ENTRY_BYTES}-byte limit` };
    const sharedText = fieldText(sharedField);
    if (typeof sharedText !== 'string') return { ok: false, reason: `field "s" ${sharedText.error}` };
    const parsed = parseSharedMembers(sharedText);
    if (!parsed.ok) return parsed;
    shared = parsed.members;
  }
  const lines = text.split('\n');
  if (lines.length > MAX_EVENTS_PER_ENTRY) {
    return { ok: false, reason: `field "b" holds ${lines.length} lines, over the ${MAX_EVENTS_PER_ENTRY}-event limit` };
  }
  return { ok: true, lines, options: { shared, version, maxLineBytes: MAX_ENTRY_BYTES } };
}

/**
 * Decodes a single-event stream entry. A packed entry of one line decodes too; a packed entry
 * of several events is refused (read those with {@link decodeEntryEvents}). Never throws.
 */
export function decodeEntry(fields: readonly (string | Buffer)[]): DecodeResult {
  const r = decodeEntryEvents(fields);
  if (!r.ok) return r;
  if (r.parts.length !== 1) {
    return { ok: false, reason: `packed entry of ${r.parts.length} events where one was expected; read it with decodeEntryEvents` };
  }
  return r.parts[0]!;
}

/**
 * Event `index` of a packed entry as a whole event's JSON, standing alone (what its line means,
 * with the entry's shared members and the job it refers to filled in), so a dead-letter record
 * of one event is complete. A line that needs nothing from the rest of the entry, or cannot
 * be expanded (not JSON, a bad reference), is returned byte for byte; undefined when the entry
 * has no such line or is not packed.
 */
export function standaloneEventJson(fields: readonly (string | Buffer)[], index: number): Buffer | undefined {
  const f = entryFields(fields);
  if (f.packed === undefined || index < 0) return undefined;
  const bytes = typeof f.packed === 'string' ? Buffer.from(f.packed) : f.packed;
  const line = lineBytes(bytes, index);
  if (line === undefined) return undefined;
  // A line that refers to nothing outside itself is already the event as its producer wrote it.
  if (f.shared === undefined && !refersOut(line)) return line;
  const read = readPacked(bytes, f.shared, Number(f.version?.toString() ?? SCHEMA_VERSION));
  if (!read.ok) return line;
  const expanded = expandLines(read.lines, { ...read.options, last: index })[index];
  return expanded?.ok ? Buffer.from(JSON.stringify(expanded.raw)) : line;
}

function refersOut(line: Buffer): boolean {
  try {
    const raw: unknown = JSON.parse(line.toString());
    return raw !== null && typeof raw === 'object' && (ATTEMPT_REF in raw || FOLLOWS in raw);
  } catch {
    return false;
  }
}

/** The bytes of line `index` (in UTF-8 a newline byte is never part of another character). */
function lineBytes(bytes: Buffer, index: number): Buffer | undefined {
  let start = 0;
  for (let i = 0; i < index; i++) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl < 0) return undefined;
    start = nl + 1;
  }
  const end = bytes.indexOf(0x0a, start);
  return bytes.subarray(start, end < 0 ? bytes.length : end);
}

/** How many events a packed entry's `b` field holds (its lines), or undefined for a single-event entry. */
export function packedEventCount(fields: readonly (string | Buffer)[]): number | undefined {
  const payload = entryFields(fields).packed;
  if (payload === undefined) return undefined;
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  let n = 1;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) n++;
  return n;
}

/** Parses and validates an event from its JSON text. Never throws. */
export function decodeEventJson(text: string): DecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `field "e" is not valid JSON: ${(err as Error).message.slice(0, 200)}` };
  }
  return validate(raw, 'field "e"');
}

/** Validates a parsed event against the schema; `what` names where it came from. */
function validate(raw: unknown, what: string): DecodeResult {
  const eventId =
    raw !== null && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string'
      ? (raw as { id: string }).id.slice(0, 64)
      : undefined;
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) {
    const where = what === 'field "e"' ? '' : `${what}: `;
    const reason = `${where}event does not match schema v${SCHEMA_VERSION}: ${formatIssues(zodIssues(parsed.error))}`;
    return eventId === undefined ? { ok: false, reason } : { ok: false, reason, eventId };
  }
  return { ok: true, event: parsed.data };
}
