import { describe, expect, it } from 'vitest';

// The dashboard's own module (plain browser JS, no types); mergeEntry touches no DOM.
const dashboardRow = '../../../src/api/dashboard/job-row.js';
const { mergeEntry } = (await import(dashboardRow)) as { mergeEntry: (job: unknown, e: unknown) => unknown };

interface Row {
  id: string;
  state: string;
  attempt: number;
  receivedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  durationMs?: number;
  progress?: number;
  updatedAt: number;
}

const entry = (eventType: string, state: string, time: number, attempt: number) => ({
  jobId: 'nightly',
  eventType,
  state,
  time,
  attempt,
  machineId: 'm',
  workerId: 'w',
  serviceType: 's',
  connectorId: 'c',
});

describe('dashboard mergeEntry', () => {
  it('a job id re-added (attempt 1 again) after it failed: the row shows the new run, not the old times', () => {
    const ended: Row = { id: 'nightly', state: 'failed', attempt: 3, receivedAt: 1000, startedAt: 1001, finishedAt: 5000, durationMs: 3999, progress: 60, updatedAt: 5000 };
    let row = mergeEntry(ended, entry('job.received', 'received', 60_000, 1)) as Row;
    expect(row).toMatchObject({ state: 'received', attempt: 1, receivedAt: 60_000 });
    expect(row.durationMs).toBeUndefined();
    expect(row.progress).toBeUndefined();
    row = mergeEntry(row, entry('job.started', 'running', 60_001, 1)) as Row;
    row = mergeEntry(row, entry('job.failed', 'failed', 60_050, 1)) as Row;
    expect(row).toMatchObject({ state: 'failed', finishedAt: 60_050, durationMs: 49 });
  });

  it('a late entry from before the end changes no run', () => {
    const ended: Row = { id: 'nightly', state: 'completed', attempt: 1, startedAt: 1001, finishedAt: 5000, durationMs: 3999, updatedAt: 5000 };
    const row = mergeEntry(ended, entry('job.progress', 'completed', 4000, 1)) as Row;
    expect(row).toMatchObject({ finishedAt: 5000, durationMs: 3999, startedAt: 1001 });
  });
});
