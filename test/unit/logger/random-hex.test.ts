import { describe, expect, it } from 'vitest';
import { TRACE_ID_PATTERN, SPAN_ID_PATTERN } from '../../../src/events/trace-context.js';
import { pooledSpanId, pooledTraceAndSpanHex, pooledTraceId } from '../../../src/logger/random-hex.js';

describe('pooled trace and span ids', () => {
  it('are valid W3C ids and do not repeat across pool refills', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    // 1000 of each spans several 4 KiB pool refills.
    for (let i = 0; i < 1000; i++) {
      const t = pooledTraceId();
      const s = pooledSpanId();
      expect(t).toMatch(TRACE_ID_PATTERN);
      expect(s).toMatch(SPAN_ID_PATTERN);
      traces.add(t);
      spans.add(s);
    }
    expect(traces.size).toBe(1000);
    expect(spans.size).toBe(1000);
  });

  it('trace-and-span pairs are 48 hex characters whose parts are valid ids, unique across refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const hex = pooledTraceAndSpanHex();
      expect(hex).toHaveLength(48);
      expect(hex.slice(0, 32)).toMatch(TRACE_ID_PATTERN);
      expect(hex.slice(32)).toMatch(SPAN_ID_PATTERN);
      seen.add(hex);
    }
    expect(seen.size).toBe(1000);
  });
});
