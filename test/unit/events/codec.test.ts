import { describe, expect, it } from 'vitest';
import {
  decodeEntry,
  decodeEntryEvents,
  lastEventId,
  nextEventId,
  takeEventId,
  encodeEntry,
  MAX_ENTRY_BYTES,
  MAX_EVENTS_PER_ENTRY,
  MAX_PACKED_ENTRY_BYTES,
  PACKED_FIELD,
  packedEventCount,
  standaloneEventJson,
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
    expect(MAX_EVENTS_PER_ENTRY).toBe(64);
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

  it('refuses more than 64 events in one entry as a whole', () => {
    const r = decodeEntryEvents(packed(events(65).map((e) => JSON.stringify(e))));
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/holds 65 lines, over the 64-event limit/) });
    expect(parts(decodeEntryEvents(packed(events(64).map((e) => JSON.stringify(e)))))).toHaveLength(64);
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

  it('counts the lines without decoding', () => {
    const fields = packed(['{"a":"é"}', '{"b":1}', '']).map((f) => Buffer.from(f));
    expect(packedEventCount(fields)).toBe(3);
    expect(packedEventCount(encodeEntry(events(1)[0]!))).toBeUndefined();
  });
});

/** An event's JSON without the members a compact line leaves out (`v`, and `source`/`producer` when shared). */
function compactLine(e: Record<string, unknown>, omit: string[], extra: Record<string, unknown> = {}): string {
  const copy: Record<string, unknown> = { ...e, ...extra };
  for (const k of ['v', ...omit]) delete copy[k];
  return JSON.stringify(copy);
}

describe('compact packed entries: shared members and attempt references', () => {
  const [a, b, c] = [
    makeEvent({ type: 'job.received', job: { id: 'job-a', attempt: 1, queue: 'q' } }),
    makeEvent({ type: 'job.started', job: { id: 'job-a', attempt: 1, queue: 'q' } }),
    makeEvent({ type: 'job.received', job: { id: 'job-c', attempt: 2 } }),
  ];
  const shared = JSON.stringify({ source: a!.source, producer: a!.producer });
  const compact = (lines: string[]) => ['v', '1', 's', shared, PACKED_FIELD, lines.join('\n')];

  it('expands lines into the whole events: shared members, the version and referenced job/trace filled in', () => {
    const lines = [
      compactLine(a!, ['source', 'producer']),
      compactLine(b!, ['source', 'producer', 'job', 'trace'], { '@': 0 }),
      compactLine(c!, ['source', 'producer']),
    ];
    expect(parts(decodeEntryEvents(compact(lines)))).toEqual([a, b, c].map((event) => ({ ok: true, event })));
    // A compact pack is much smaller than the same events whole.
    expect(lines.join('\n').length).toBeLessThan(0.7 * [a, b, c].map((e) => JSON.stringify(e)).join('\n').length);
  });

  it('a line keeps its own members over the shared ones', () => {
    const other = { ...c!, producer: 'another-producer' };
    const p = parts(decodeEntryEvents(compact([compactLine(other, ['source'])])));
    expect(p[0]).toEqual({ ok: true, event: other });
  });

  it('a bad reference fails its line alone, saying what is wrong', () => {
    const lines = [
      compactLine(a!, ['source', 'producer']),
      compactLine(b!, ['source', 'producer', 'job', 'trace'], { '@': 1 }),
      compactLine(b!, ['source', 'producer', 'job', 'trace'], { '@': 'zero' }),
      '{"broken',
      compactLine(b!, ['source', 'producer', 'job', 'trace'], { '@': 3 }),
      compactLine(b!, ['source', 'producer', 'job', 'trace'], { '@': 0 }),
    ];
    const p = parts(decodeEntryEvents(compact(lines)));
    expect(p.map((x) => x.ok)).toEqual([true, false, false, false, false, true]);
    expect(p[1]).toMatchObject({ reason: 'part 1 of field "b": "@" must be the index of an earlier line, got 1' });
    expect(p[2]).toMatchObject({ reason: 'part 2 of field "b": "@" must be the index of an earlier line, got "zero"' });
    expect(p[4]).toMatchObject({ reason: 'part 4 of field "b": "@": 3 refers to a line without a readable job' });
  });

  it('refuses the entry as a whole when "s" is not a JSON object', () => {
    expect(decodeEntryEvents(['v', '1', 's', '[1]', 'b', '{}'])).toEqual({ ok: false, reason: 'field "s" is not a JSON object' });
    expect(decodeEntryEvents(['v', '1', 's', '{', 'b', '{}'])).toEqual({ ok: false, reason: 'field "s" is not a JSON object' });
  });

  it('gives one event standing alone, for its dead-letter record; an unreadable line byte for byte', () => {
    const lines = [compactLine(a!, ['source', 'producer']), compactLine(b!, ['source', 'producer', 'job', 'trace'], { '@': 0 }), '{"é'];
    const fields = compact(lines).map((f) => Buffer.from(f));
    expect(JSON.parse(standaloneEventJson(fields, 1)!.toString())).toEqual(b);
    expect(standaloneEventJson(fields, 2)).toEqual(Buffer.from('{"é'));
    expect(standaloneEventJson(fields, 3)).toBeUndefined();
    expect(standaloneEventJson(encodeEntry(a!), 0)).toBeUndefined();
  });
});

describe('compact packed entries: lines that follow the line before ("^")', () => {
  // Three events as one producer makes them in one millisecond: consecutive ids and seqs.
  const t = 1_800_000_000_000;
  const ids: string[] = [];
  const stamps: number[] = [];
  for (let i = 0; i < 3; i++) {
    stamps.push(takeEventId(t));
    ids.push(lastEventId());
  }
  const [a, b, c] = [
    makeEvent({ type: 'job.received', id: ids[0]!, time: t, seq: 10, job: { id: 'job-a', attempt: 1 } }),
    makeEvent({ type: 'job.started', id: ids[1]!, time: t, seq: 11, job: { id: 'job-a', attempt: 1 } }),
    makeEvent({ type: 'job.completed', id: ids[2]!, time: t + 7, seq: 12, job: { id: 'job-a', attempt: 1 } }),
  ];
  const shared = JSON.stringify({ source: a!.source, producer: a!.producer });
  const compact = (lines: string[]) => ['v', '1', 's', shared, PACKED_FIELD, lines.join('\n')];
  const follows = (e: Record<string, unknown>, keep: string[] = []) =>
    compactLine(e, ['source', 'producer', 'job', 'trace', ...['id', 'seq', 'level', 'time'].filter((k) => !keep.includes(k))], { '^': 1, '@': 0 });

  it('take the id (counter + 1), seq + 1, level and time of the line before, unless they give their own', () => {
    // The stamps of consecutive ids differ by one, as the producer checks before writing "^".
    expect([stamps[1]! - stamps[0]!, stamps[2]! - stamps[1]!]).toEqual([1, 1]);
    expect([nextEventId(ids[0]), nextEventId(ids[1])]).toEqual([ids[1], ids[2]]);
    // A new millisecond starts a new prefix: its first id is never one stamp after the last one.
    expect(Math.abs(takeEventId(t + 1) - stamps[2]!)).toBeGreaterThan(4096);
    const lines = [compactLine(a!, ['source', 'producer']), follows(b!), follows(c!, ['time'])];
    expect(parts(decodeEntryEvents(compact(lines)))).toEqual([a, b, c].map((event) => ({ ok: true, event })));
    expect(Object.keys(JSON.parse(lines[1]!) as object).sort()).toEqual(['@', '^', 'data', 'type']);
  });

  it('fail alone when there is nothing to follow, saying why', () => {
    const atEnd = `${ids[0]!.slice(0, 15)}fff${ids[0]!.slice(18)}`;
    expect(nextEventId(atEnd)).toBeUndefined();
    const lines = [
      follows(a!),
      compactLine({ ...a!, id: atEnd }, ['source', 'producer']),
      follows(b!),
      '{"broken',
      follows(b!),
      compactLine(b!, ['source', 'producer', 'job', 'trace', 'id'], { '^': 2, '@': 1 }),
    ];
    const p = parts(decodeEntryEvents(compact(lines)));
    expect(p.map((x) => (x.ok ? 'ok' : x.reason))).toEqual([
      'part 0 of field "b": "^": the first line follows no line',
      'ok',
      'part 2 of field "b": "^": line 1 has no id with a next one',
      expect.stringContaining('part 3 of field "b" is not valid JSON'),
      'part 4 of field "b": "^": line 3, which it follows, is not readable',
      'part 5 of field "b": "^": must be 1, got 2',
    ]);
  });

  it('stand alone in a dead-letter record with everything they took from the line before', () => {
    const fields = compact([compactLine(a!, ['source', 'producer']), follows(b!)]);
    expect(JSON.parse(standaloneEventJson(fields, 1)!.toString())).toEqual(b);
  });
});
