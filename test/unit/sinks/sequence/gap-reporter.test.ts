import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGapReporter } from '../../../../src/sinks/sequence/gap-reporter.js';
import { createSequenceMetrics, MAX_GAP_SERVICE_TYPES } from '../../../../src/sinks/sequence/sequence-metrics.js';
import { parseSeqReply } from '../../../../src/sinks/sequence/sequence-script.js';
import { metricValue } from '../../../helpers/pipeline-fixtures.js';

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, out), lines };
}

describe('parseSeqReply', () => {
  it('reads counts, identity and ranges', () => {
    expect(parseSeqReply([3, 1, 15, 'm/w/svc/c', 'svc', 5, 9, 20, 29])).toEqual({
      added: 3, duplicates: 1, lost: 15, path: 'm/w/svc/c', serviceType: 'svc', ranges: [{ from: 5, to: 9 }, { from: 20, to: 29 }],
    });
  });
});

describe('gap reporter', () => {
  it('logs one error line per gap and counts the missing events by service type', async () => {
    const registry = new Registry();
    const { logger, lines } = capture();
    const report = createGapReporter(logger, createSequenceMetrics(registry));
    const gaps = report('p-1', parseSeqReply([0, 0, 15, 'm1/w1/comfyui/c1', 'comfyui', 5, 9, 20, 29]));
    expect(gaps.map((g) => [g.from, g.to, g.count])).toEqual([[5, 9, 5], [20, 29, 10]]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 50, producer: 'p-1', seq_from: 5, seq_to: 9, missing: 5 });
    expect(String(lines[0]!.msg)).toContain('events lost: producer p-1 (m1/w1/comfyui/c1) seq 5–9, 5 events');
    expect(await metricValue(registry, 'jobscope_producer_seq_gaps_total', { service_type: 'comfyui' })).toBe(15);
  });

  it('says so when more events were lost than the listed ranges hold, and stays silent for no loss', async () => {
    const registry = new Registry();
    const { logger, lines } = capture();
    const report = createGapReporter(logger, createSequenceMetrics(registry));
    expect(report('p', parseSeqReply([4, 0, 0, 'a/b/c/d', 'c']))).toEqual([]);
    expect(lines).toHaveLength(0);
    report('p', parseSeqReply([0, 0, 12, 'a/b/c/d', 'c', 0, 1]));
    expect(lines.map((l) => String(l.msg))).toEqual([expect.stringContaining('seq 0–1, 2 events'), expect.stringContaining('10 more events')]);
    expect(await metricValue(registry, 'jobscope_producer_seq_gaps_total', { service_type: 'c' })).toBe(12);
  });

  it('bounds the service_type label', () => {
    const m = createSequenceMetrics(new Registry());
    for (let i = 0; i < MAX_GAP_SERVICE_TYPES; i++) expect(m.serviceLabel(`s${i}`)).toBe(`s${i}`);
    expect(m.serviceLabel('one-too-many')).toBe('other');
    expect(m.serviceLabel('s0')).toBe('s0');
  });
});
