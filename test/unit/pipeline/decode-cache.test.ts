import { describe, expect, it } from 'vitest';
import type { StreamEntry } from '../../../src/bus/index.js';
import { encodeEntry } from '../../../src/events/index.js';
import { decodeBatch } from '../../../src/pipeline/batch-decoder.js';
import { createDecodeCache } from '../../../src/pipeline/decode-cache.js';
import { makeEvent } from '../../helpers/events.js';

const entry = (fields: string[], id: string): StreamEntry => ({ stream: 's', id, fields: fields.map((f) => Buffer.from(f)), deliveries: 1 });

describe('decode cache', () => {
  it('a second sink loop reuses the decoded event; invalid entries are never cached', () => {
    const cache = createDecodeCache({ maxEntries: 10 });
    const batch = [entry(encodeEntry(makeEvent({ type: 'job.started' })), '1-0'), entry(['v', '1', 'e', '{bad'], '2-0')];
    const first = decodeBatch(batch, 5, cache);
    const second = decodeBatch(batch, 5, cache);
    expect(second.held[0]!.event).toBe(first.held[0]!.event);
    expect(second.deadLetters.map((d) => d.code)).toEqual(['invalid']);
    expect(cache.stats()).toMatchObject({ hits: 1, size: 1 });
  });

  it('stays within maxEntries, evicting the oldest and counting it', () => {
    const cache = createDecodeCache({ maxEntries: 2 });
    const batch = ['1-0', '2-0', '3-0'].map((id) => entry(encodeEntry(makeEvent({ type: 'log' })), id));
    decodeBatch(batch, 5, cache);
    expect(cache.stats()).toMatchObject({ size: 2, evicted: 1 });
    expect(cache.get('s', '1-0')).toBeUndefined();
    expect(cache.get('s', '3-0')).toBeDefined();
  });
});
