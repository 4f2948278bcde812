import { describe, expect, it } from 'vitest';
import { renderStats } from '../../../src/cli/commands/stats.js';
import { computeJobStats } from '../../../src/insights/job-stats.js';

describe('jobscope stats', () => {
  it('says when the figures cover only the newest jobs of the window (the server read as many as it reads)', () => {
    const stats = (capped: boolean) => computeJobStats([], { windowMs: 86_400_000, toMs: Date.now(), capped }, {});
    expect(renderStats(stats(false))).not.toContain('newest');
    const text = renderStats(stats(true));
    expect(text.split('\n')[0]).toMatch(/^Window: last .* — the newest 0 jobs only \(the server reads at most that many, JOBSCOPE_INSIGHTS_MAX_JOBS\): older jobs and their cost are not counted; pick a shorter --window$/);
  });
});
