import { describe, expect, it } from 'vitest';
import { TRACE_ID_PATTERN, SPAN_ID_PATTERN } from '../../../src/events/trace-context.js';
import { pooledSpanId, pooledTraceId } from '../../../src/logger/random-hex.js';

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
});
