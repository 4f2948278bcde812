import { describe, expect, it } from 'vitest';
import { encodeEntry } from '../../../src/events/index.js';
import { decodeBatch } from '../../../src/pipeline/batch-decoder.js';
import { writeBatch } from '../../../src/pipeline/write-batch.js';
import type { Sink, SinkWriteResult } from '../../../src/sinks/sink.js';
import type { StreamEntry } from '../../../src/bus/index.js';
import { makeEvent } from '../../helpers/events.js';

const entry = (fields: (string | Buffer)[] | null, deliveries = 1, id = '1-0'): StreamEntry => ({
  stream: 's',
  id,
  fields: fields === null ? null : fields.map((f) => Buffer.from(f)),
  deliveries,
});

describe('decodeBatch', () => {
  it('sorts valid, invalid, over-delivered and deleted entries', () => {
    const good = makeEvent({ type: 'job.started' });
    const tired = makeEvent({ type: 'job.started' });
    const out = decodeBatch([entry(encodeEntry(good)), entry(['v', '1', 'e', 'nope']), entry(encodeEntry(tired), 6), entry(null)], 5);
    expect(out.held.map((h) => h.event.id)).toEqual([good.id]);
    expect(out.held[0]).toMatchObject({ part: 0, parts: 1, packed: false, deliveries: 1 });
    // Single-event entries: each failure is its entry's only event.
    expect(out.deadLetters.map((d) => ('slot' in d ? [d.code, d.slot.packed, d.slot.parts] : d.code))).toEqual([['invalid', false, 1], ['max_deliveries', false, 1]]);
    expect(out.deadLetters[0]!.reason).toMatch(/not valid JSON/);
    expect(out.deadLetters[1]!.reason).toMatch(/delivered 6 times/);
    expect(out.gone).toHaveLength(1);
    expect({ entries: out.entries, events: out.events }).toEqual({ entries: 3, events: 3 });
  });

  it('expands a packed entry into one held event per line, sharing the entry, and sorts out its bad lines', () => {
    const [a, b, c] = [makeEvent({ type: 'job.started' }), makeEvent({ type: 'job.progress' }), makeEvent({ type: 'job.completed' })];
    const packed = entry(['v', '1', 'b', [JSON.stringify(a), '{oops', JSON.stringify(b), JSON.stringify(c)].join('\n')], 2, '7-0');
    const out = decodeBatch([packed], 5);
    expect(out.held.map((h) => [h.event.id, h.part, h.parts, h.packed, h.deliveries])).toEqual([
      [a.id, 0, 4, true, 2],
      [b.id, 2, 4, true, 2],
      [c.id, 3, 4, true, 2],
    ]);
    expect(out.held.every((h) => h.entry === packed)).toBe(true);
    expect(out.deadLetters).toHaveLength(1);
    expect(out.deadLetters[0]).toMatchObject({ code: 'invalid', slot: { part: 1, parts: 4, packed: true }, reason: expect.stringMatching(/part 1 of field "b" is not valid JSON/) });
    expect({ entries: out.entries, events: out.events }).toEqual({ entries: 1, events: 4 });
  });

  it('dead-letters every event of an over-delivered packed entry, and an unreadable packed entry whole', () => {
    const lines = [makeEvent({ type: 'log' }), makeEvent({ type: 'log' })].map((e) => JSON.stringify(e));
    const tired = entry(['v', '1', 'b', lines.join('\n')], 6, '1-0');
    const future = entry(['v', '2', 'b', lines.join('\n')], 1, '2-0');
    const out = decodeBatch([tired, future], 5);
    expect(out.held).toEqual([]);
    // In stream order: each event of the tired entry alone, then the unreadable entry whole.
    expect(out.deadLetters.map((d) => ('slot' in d ? [d.code, d.slot.part] : [d.code, d.entry.id]))).toEqual([['max_deliveries', 0], ['max_deliveries', 1], ['invalid', '2-0']]);
    expect(out.deadLetters[2]!.reason).toMatch(/unsupported schema version "2"/);
    expect(out.events).toBe(4);
  });
});

function sinkReturning(result: SinkWriteResult | Error): Sink {
  return {
    name: 'x',
    write: async () => {
      if (result instanceof Error) throw result;
      return result;
    },
    health: async () => ({ ok: true }),
    close: async () => {},
  };
}

describe('writeBatch', () => {
  const events = [makeEvent({ type: 'log' }), makeEvent({ type: 'log' }), makeEvent({ type: 'log' })];
  const batch = events.map((event, i) => ({ event, entry: entry(encodeEntry(event), 1, `${i + 1}-0`) }));
  const signal = new AbortController().signal;

  it('ok with rejections: the rest is confirmed', async () => {
    const out = await writeBatch(sinkReturning({ status: 'ok', rejected: [{ eventId: events[1]!.id, reason: 'no' }] }), batch, signal);
    expect(out.result).toBe('ok');
    expect(out.confirmed.map((h) => h.entry.id)).toEqual(['1-0', '3-0']);
    expect(out.rejected.map((r) => r.reason)).toEqual(['no']);
    expect(out.remaining).toEqual([]);
  });
  it('partial retry: confirmed ids acknowledged, the rest retried with retryAfterMs', async () => {
    const out = await writeBatch(sinkReturning({ status: 'retry', reason: '429', retryAfterMs: 700, confirmedIds: [events[0]!.id] }), batch, signal);
    expect(out.result).toBe('partial');
    expect(out.remaining.map((h) => h.entry.id)).toEqual(['2-0', '3-0']);
    expect(out.retry).toEqual({ reason: '429', retryAfterMs: 700 });
  });
  it('a throw retries the whole batch', async () => {
    const out = await writeBatch(sinkReturning(new Error('socket hang up')), batch, signal);
    expect(out.result).toBe('error');
    expect(out.remaining).toHaveLength(3);
    expect(out.retry?.reason).toBe('socket hang up');
  });
});
