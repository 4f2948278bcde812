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
    expect(out.deadLetters.map((d) => d.code)).toEqual(['invalid', 'max_deliveries']);
    expect(out.deadLetters[0]!.reason).toMatch(/not valid JSON/);
    expect(out.deadLetters[1]!.reason).toMatch(/delivered 6 times/);
    expect(out.gone).toHaveLength(1);
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
