import { eventSchema, SCHEMA_VERSION, type JobscopeEvent } from './schema.js';
import { formatIssues } from '../errors.js';
import { zodIssues } from './zod-issues.js';

/**
 * The codec between events and Redis stream entries. An entry is one of
 *
 * - single: `v <version> e <event JSON>`, one event;
 * - packed: `v <version> b <payload>`, where the payload is up to {@link MAX_EVENTS_PER_ENTRY}
 *   event JSON texts joined by "\n". JSON.stringify never emits a raw newline, so a line is
 *   one event. A stream entry costs Redis about the same whatever it carries, so a producer
 *   packs runs of events to cut the per-event cost; a reader expands a packed entry into its
 *   events, which then behave exactly as if they had been written one by one.
 *
 * The version sits outside the JSON so a reader can refuse a version it does not know before
 * parsing anything, and say so. A packed entry fails as a whole only for what concerns the
 * entry (version, encoding, size, event count); a bad line fails alone, and its neighbours
 * still decode.
 */

/** The largest event payload (an `e` field, or one line of a `b` field) a reader accepts, in bytes. */
export const MAX_ENTRY_BYTES = 256 * 1024;

/** The largest `b` field (all the lines of a packed entry) a reader accepts, in bytes. */
export const MAX_PACKED_ENTRY_BYTES = 4 * 1024 * 1024;

/** Most events a packed entry holds; a reader refuses more (it bounds what one read expands to). */
export const MAX_EVENTS_PER_ENTRY = 16;

/** The field of a packed entry: event JSON texts joined by "\n". */
export const PACKED_FIELD = 'b';

/** Field names of a stream entry. */
export const ENTRY_FIELDS = { version: 'v', event: 'e', packed: PACKED_FIELD } as const;

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
function entryFields(fields: readonly (string | Buffer)[]): { version?: string | Buffer; event?: string | Buffer; packed?: string | Buffer } {
  const out: { version?: string | Buffer; event?: string | Buffer; packed?: string | Buffer } = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    if (name === ENTRY_FIELDS.version) out.version = fields[i + 1];
    else if (name === ENTRY_FIELDS.event) out.event = fields[i + 1];
    else if (name === ENTRY_FIELDS.packed) out.packed = fields[i + 1];
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
    return { ok: true, packed: false, parts: [parseEvent(text, 'field "e"')] };
  }
  if (f.packed === undefined) return { ok: false, reason: 'missing field "e" (event JSON) or "b" (packed event JSON lines)' };
  return decodePacked(f.packed);
}

function decodePacked(payload: string | Buffer): EntryDecodeResult {
  const size = byteLength(payload);
  if (size > MAX_PACKED_ENTRY_BYTES) {
    return { ok: false, reason: `field "b" is ${size} bytes, over the ${MAX_PACKED_ENTRY_BYTES}-byte limit` };
  }
  const text = fieldText(payload);
  if (typeof text !== 'string') return { ok: false, reason: `field "b" ${text.error}` };
  const lines = text.split('\n');
  if (lines.length > MAX_EVENTS_PER_ENTRY) {
    return { ok: false, reason: `field "b" holds ${lines.length} lines, over the ${MAX_EVENTS_PER_ENTRY}-event limit` };
  }
  const parts = lines.map((line, i): DecodeResult => {
    const what = `part ${i} of field "b"`;
    if (line.length === 0) return { ok: false, reason: `${what} is empty` };
    const bytes = Buffer.byteLength(line);
    if (bytes > MAX_ENTRY_BYTES) return { ok: false, reason: `${what} is ${bytes} bytes, over the ${MAX_ENTRY_BYTES}-byte limit` };
    return parseEvent(line, what);
  });
  return { ok: true, packed: true, parts };
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
 * The raw bytes of event `index` of a packed entry (the line of its `b` field), or undefined
 * when the entry has no such line. Splits the bytes, not decoded text: the dead-letter record
 * of one event keeps it byte for byte (in UTF-8 a newline byte is never part of another character).
 */
export function packedEventBytes(fields: readonly (string | Buffer)[], index: number): Buffer | undefined {
  const payload = entryFields(fields).packed;
  if (payload === undefined || index < 0) return undefined;
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
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
  return parseEvent(text, 'field "e"');
}

/** Parses and validates an event from its JSON text; `what` names where the text came from. */
function parseEvent(text: string, what: string): DecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `${what} is not valid JSON: ${(err as Error).message.slice(0, 200)}` };
  }
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
