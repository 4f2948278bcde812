import { describe, expect, it } from 'vitest';
import type { StreamEntry } from '../../../src/bus/index.js';
import { encodeEntry } from '../../../src/events/index.js';
import { decodeBatch } from '../../../src/pipeline/batch-decoder.js';
import { createDecodeCache } from '../../../src/pipeline/decode-cache.js';
import { makeEvent } from '../../helpers/events.js';

const entry = (fields: string[], id: string): StreamEntry => ({ stream: 's', id, fields: fields.map((f) => Buffer.from(f)), deliveries: 1 });

describe('decode cache', () => {
  it('a second sink loop reuses the decoded event; invalid entries are never cached', () => {
    const cache = createDecodeCache({ maxEvents: 10 });
    const batch = [entry(encodeEntry(makeEvent({ type: 'job.started' })), '1-0'), entry(['v', '1', 'e', '{bad'], '2-0')];
    const first = decodeBatch(batch, 5, cache);
    const second = decodeBatch(batch, 5, cache);
    expect(second.held[0]!.event).toBe(first.held[0]!.event);
    expect(second.deadLetters.map((d) => d.code)).toEqual(['invalid']);
    expect(cache.stats()).toMatchObject({ hits: 1, size: 1 });
  });

  it('keeps every part of a packed entry, failed lines included, and counts its size in events', () => {
    const cache = createDecodeCache({ maxEvents: 10 });
    const lines = [JSON.stringify(makeEvent({ type: 'log' })), 'nope', JSON.stringify(makeEvent({ type: 'log' }))];
    const batch = [entry(['v', '1', 'b', lines.join('\n')], '1-0')];
    const first = decodeBatch(batch, 5, cache);
    const second = decodeBatch(batch, 5, cache);
    expect(second.held.map((h) => h.event)).toEqual(first.held.map((h) => h.event));
    expect(second.held[1]!.event).toBe(first.held[1]!.event);
    expect(second.deadLetters.map((d) => ('slot' in d ? d.slot.part : undefined))).toEqual([1]);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, size: 3 });
  });

  it('bounds the events held: a packed entry evicts as many older entries as it needs', () => {
    const cache = createDecodeCache({ maxEvents: 4 });
    const single = ['1-0', '2-0', '3-0'].map((id) => entry(encodeEntry(makeEvent({ type: 'log' })), id));
    const packed = entry(['v', '1', 'b', [1, 2, 3].map(() => JSON.stringify(makeEvent({ type: 'log' }))).join('\n')], '4-0');
    decodeBatch([...single, packed], 5, cache);
    expect(cache.stats()).toMatchObject({ size: 4, evicted: 2 });
    expect(cache.get('s', '2-0')).toBeUndefined();
    expect(cache.get('s', '3-0')?.parts).toHaveLength(1);
    expect(cache.get('s', '4-0')?.parts).toHaveLength(3);
  });

  it('stays within maxEvents, evicting the oldest and counting it', () => {
    const cache = createDecodeCache({ maxEvents: 2 });
    const batch = ['1-0', '2-0', '3-0'].map((id) => entry(encodeEntry(makeEvent({ type: 'log' })), id));
    decodeBatch(batch, 5, cache);
    expect(cache.stats()).toMatchObject({ size: 2, evicted: 1 });
    expect(cache.get('s', '1-0')).toBeUndefined();
    expect(cache.get('s', '3-0')).toBeDefined();
  });
});
