import { eventSchema, SCHEMA_VERSION, type JobscopeEvent } from './schema.js';
import { formatIssues } from '../errors.js';
import { zodIssues } from './zod-issues.js';

/**
 * The codec between an event and a Redis stream entry. An entry is `v <version> e <json>`:
 * the version sits outside the JSON so a reader can refuse a version it does not know before
 * parsing anything, and say so.
 */

/** The largest entry payload a reader accepts, in bytes. Larger entries are dead-lettered. */
export const MAX_ENTRY_BYTES = 256 * 1024;

/** Field names of a stream entry. */
export const ENTRY_FIELDS = { version: 'v', event: 'e' } as const;

/** Result of decoding one stream entry: the event, or why it was rejected. */
export type DecodeResult =
  | { ok: true; event: JobscopeEvent }
  | {
      ok: false;
      /** What is wrong, in words, naming the field; goes into the dead-letter entry. */
      reason: string;
      /** The event id, when the payload had a readable one. */
      eventId?: string;
    };

/** Serializes an event to the JSON payload of an entry (no validation: the producer built it). */
export function encodeEventJson(event: JobscopeEvent): string {
  return JSON.stringify(event);
}

/** The flat `[field, value, …]` list to pass to XADD. */
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

/**
 * Decodes a stream entry's fields (as returned by XRANGE/XREADGROUP, strings or Buffers).
 * Never throws: every problem becomes `{ ok: false, reason }`.
 */
export function decodeEntry(fields: readonly (string | Buffer)[]): DecodeResult {
  let version: string | Buffer | undefined;
  let payload: string | Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    if (name === ENTRY_FIELDS.version) version = fields[i + 1];
    else if (name === ENTRY_FIELDS.event) payload = fields[i + 1];
  }
  if (version === undefined) return { ok: false, reason: 'missing field "v" (schema version)' };
  const v = version.toString();
  if (v !== String(SCHEMA_VERSION)) {
    return {
      ok: false,
      reason: `unsupported schema version "${v.slice(0, 32)}" (this build reads ${SCHEMA_VERSION}); upgrade the pipeline or fix the producer`,
    };
  }
  if (payload === undefined) return { ok: false, reason: 'missing field "e" (event JSON)' };
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_ENTRY_BYTES) {
    return { ok: false, reason: `field "e" is ${size} bytes, over the ${MAX_ENTRY_BYTES}-byte limit` };
  }
  const text = fieldText(payload);
  if (typeof text !== 'string') return { ok: false, reason: `field "e" ${text.error}` };
  return decodeEventJson(text);
}

/** Parses and validates an event from its JSON text. Never throws. */
export function decodeEventJson(text: string): DecodeResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `field "e" is not valid JSON: ${(err as Error).message.slice(0, 200)}` };
  }
  const eventId =
    raw !== null && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string'
      ? (raw as { id: string }).id.slice(0, 64)
      : undefined;
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) {
    const reason = `event does not match schema v${SCHEMA_VERSION}: ${formatIssues(zodIssues(parsed.error))}`;
    return eventId === undefined ? { ok: false, reason } : { ok: false, reason, eventId };
  }
  return { ok: true, event: parsed.data };
}
