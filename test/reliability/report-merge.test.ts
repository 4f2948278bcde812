import { describe, expect, it } from 'vitest';
import { mergeResultsTable } from './report-merge.js';
import { resultsTable } from './scenario-result.js';

const verdict = (sink: string) => ({ sink, produced: 1, delivered: 1, duplicates: 0, deadLettered: 0, missing: 0, missingSample: [], unexpected: 0 });

describe('mergeResultsTable', () => {
  it('replaces the scenarios that ran and keeps the others, in scenario order', () => {
    const previous = resultsTable([
      { scenario: '1 old one', verdicts: [verdict('a')], checks: [{ name: 'c1', ok: true, detail: 'd1' }] },
      { scenario: '3 old three', verdicts: [verdict('b')], checks: [{ name: 'c3', ok: true, detail: 'd3' }] },
      { scenario: '10 soak', verdicts: [verdict('c')], checks: [] },
    ]);
    const fresh = resultsTable([
      { scenario: '3 new three', verdicts: [verdict('b')], checks: [{ name: 'n3', ok: false, detail: 'x' }] },
      { scenario: '2 new two', verdicts: [verdict('r')], checks: [] },
    ]);
    const merged = mergeResultsTable(previous, fresh, ['2', '3']);
    const rows = merged.split('\n').filter((l) => /^\| \d/.test(l)).map((l) => l.split(' | ')[0]);
    expect(rows).toEqual(['| 1 old one', '| 2 new two', '| 3 new three', '| 10 soak']);
    expect(merged).toContain('- 3 new three — n3: FAILED (x)');
    expect(merged).not.toContain('old three');
    expect(merged).toContain('- 1 old one — c1: ok (d1)');
  });
});
