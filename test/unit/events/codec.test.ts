import { describe, expect, it } from 'vitest';
import {
  decodeEntry,
  decodeEntryEvents,
  encodeEntry,
  MAX_ENTRY_BYTES,
  MAX_EVENTS_PER_ENTRY,
  MAX_PACKED_ENTRY_BYTES,
  PACKED_FIELD,
  packedEventBytes,
  packedEventCount,
  type EntryDecodeResult,
} from '../../../src/events/index.js';
import { makeEvent } from '../../helpers/events.js';

const events = (n: number) => Array.from({ length: n }, (_, i) => makeEvent({ type: 'job.progress', job: { id: `job-${i}`, attempt: 1 } }));
const packed = (lines: string[], version = '1') => ['v', version, PACKED_FIELD, lines.join('\n')];

function parts(r: EntryDecodeResult) {
  if (!r.ok) throw new Error(`entry failed: ${r.reason}`);
  return r.parts;
}

describe('packed stream entries', () => {
  it('names the packed form and its limits', () => {
    expect(PACKED_FIELD).toBe('b');
    expect(MAX_EVENTS_PER_ENTRY).toBe(16);
    expect(MAX_PACKED_ENTRY_BYTES).toBe(4 * 1024 * 1024);
  });

  it('decodes a packed entry of 3 good lines into 3 events, in order', () => {
    const evs = events(3);
    const r = decodeEntryEvents(packed(evs.map((e) => JSON.stringify(e))));
    expect(r).toEqual({ ok: true, packed: true, parts: evs.map((event) => ({ ok: true, event })) });
  });

  it('decodes a single-event entry as one part', () => {
    const [e] = events(1);
    expect(decodeEntryEvents(encodeEntry(e!))).toEqual({ ok: true, packed: false, parts: [{ ok: true, event: e }] });
  });

  it('a bad line in the middle fails alone, with its reason; the others still decode', () => {
    const [a, b] = events(2);
    const p = parts(decodeEntryEvents(packed([JSON.stringify(a), '{"id": "x", ', JSON.stringify(b)])));
    expect(p).toHaveLength(3);
    expect(p[0]).toEqual({ ok: true, event: a });
    expect(p[1]).toMatchObject({ ok: false, reason: expect.stringMatching(/^part 1 of field "b" is not valid JSON/) });
    expect(p[2]).toEqual({ ok: true, event: b });
  });

  it('a schema violation or an empty line fails its part, keeping a readable event id', () => {
    const [a, b] = events(2);
    const broken = { ...b!, level: 'loud' };
    const p = parts(decodeEntryEvents(packed([JSON.stringify(a), JSON.stringify(broken), ''])));
    expect(p.map((x) => x.ok)).toEqual([true, false, false]);
    expect(p[1]).toMatchObject({ ok: false, eventId: b!.id, reason: expect.stringMatching(/^part 1 of field "b": event does not match schema v1: .*level/) });
    expect(p[2]).toEqual({ ok: false, reason: 'part 2 of field "b" is empty' });
  });

  it('a line over the per-event limit fails alone', () => {
    const [a] = events(1);
    const p = parts(decodeEntryEvents(packed([JSON.stringify(a), 'x'.repeat(MAX_ENTRY_BYTES + 1)])));
    expect(p[0]).toEqual({ ok: true, event: a });
    expect(p[1]).toEqual({ ok: false, reason: `part 1 of field "b" is ${MAX_ENTRY_BYTES + 1} bytes, over the ${MAX_ENTRY_BYTES}-byte limit` });
  });

  it('refuses an oversize packed entry as a whole, before parsing it', () => {
    const line = JSON.stringify({ pad: 'y'.repeat(MAX_PACKED_ENTRY_BYTES / 2) });
    const lines = [line, line];
    const size = Buffer.byteLength(lines.join('\n'));
    expect(size).toBeGreaterThan(MAX_PACKED_ENTRY_BYTES);
    expect(decodeEntryEvents(packed(lines))).toEqual({ ok: false, reason: `field "b" is ${size} bytes, over the ${MAX_PACKED_ENTRY_BYTES}-byte limit` });
  });

  it('refuses more than 16 events in one entry as a whole', () => {
    const r = decodeEntryEvents(packed(events(17).map((e) => JSON.stringify(e))));
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/holds 17 lines, over the 16-event limit/) });
    expect(parts(decodeEntryEvents(packed(events(16).map((e) => JSON.stringify(e)))))).toHaveLength(16);
  });

  it('refuses a packed entry of another schema version as a whole', () => {
    const r = decodeEntryEvents(packed(events(2).map((e) => JSON.stringify(e)), '2'));
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/unsupported schema version "2".*upgrade/) });
  });

  it('refuses invalid UTF-8, both "e" and "b", and neither, as a whole', () => {
    const bad = [Buffer.from('v'), Buffer.from('1'), Buffer.from('b'), Buffer.from([0x7b, 0x7d, 0x0a, 0x7b, 0xff, 0x7d])];
    expect(decodeEntryEvents(bad)).toEqual({ ok: false, reason: 'field "b" is not valid UTF-8' });
    expect(decodeEntryEvents(['v', '1', 'e', '{}', 'b', '{}'])).toMatchObject({ ok: false, reason: expect.stringMatching(/both field "e".*and field "b"/) });
    expect(decodeEntryEvents(['v', '1'])).toMatchObject({ ok: false, reason: expect.stringMatching(/missing field "e" .* or "b"/) });
  });

  it('decodeEntry reads a single event (or a packed entry of one) and refuses several', () => {
    const [a, b] = events(2);
    expect(decodeEntry(packed([JSON.stringify(a)]))).toEqual({ ok: true, event: a });
    expect(decodeEntry(packed([JSON.stringify(a), JSON.stringify(b)]))).toMatchObject({ ok: false, reason: expect.stringMatching(/packed entry of 2 events/) });
  });

  it('finds the raw bytes of one line and counts the lines, without decoding', () => {
    const lines = ['{"a":"é"}', '{"b":1}', ''];
    const fields = packed(lines).map((f) => Buffer.from(f));
    expect(packedEventBytes(fields, 0)).toEqual(Buffer.from('{"a":"é"}'));
    expect(packedEventBytes(fields, 1)).toEqual(Buffer.from('{"b":1}'));
    expect(packedEventBytes(fields, 2)).toEqual(Buffer.alloc(0));
    expect(packedEventBytes(fields, 3)).toBeUndefined();
    expect(packedEventCount(fields)).toBe(3);
    expect(packedEventCount(encodeEntry(events(1)[0]!))).toBeUndefined();
  });
});
