import { describe, expect, it } from 'vitest';
import { compareIds, groupName, parseEntries, sinkOfGroup } from '../../../src/bus/index.js';

describe('stream entries', () => {
  it('names groups after sinks and back', () => {
    expect(groupName('status')).toBe('sink:status');
    expect(sinkOfGroup('sink:status')).toBe('status');
    expect(sinkOfGroup('other')).toBeUndefined();
  });
  it('compares ids numerically, not as text', () => {
    expect(compareIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareIds('10-1', '10-1')).toBe(0);
  });
  it('parses entries, keeping deleted ones as null fields', () => {
    const out = parseEntries('s', [[Buffer.from('1-0'), [Buffer.from('v'), Buffer.from('1')]], [Buffer.from('2-0'), null]]);
    expect(out).toEqual([
      { stream: 's', id: '1-0', fields: [Buffer.from('v'), Buffer.from('1')], deliveries: 1 },
      { stream: 's', id: '2-0', fields: null, deliveries: 1 },
    ]);
  });
});
