import { describe, expect, it } from 'vitest';
import { typeFilter } from '../../../src/cli/commands/tail.js';
import { formatAgo, formatDuration, formatUsd } from '../../../src/cli/format.js';
import { renderTable } from '../../../src/cli/table.js';

describe('CLI formatting', () => {
  it('formats durations, ages and money the way the tables show them', () => {
    expect([850, 12_345, 245_000, 7_380_000].map(formatDuration)).toEqual(['850ms', '12.3s', '4m05s', '2h03m']);
    expect(formatDuration(undefined)).toBe('-');
    expect(formatAgo(1000, 181_000)).toBe('3m00s ago');
    expect(formatAgo(10_000, 10_500)).toBe('now');
    expect(formatUsd(0.00421)).toBe('$0.0042');
    expect(formatUsd(12.4)).toBe('$12.40');
  });

  it('renders aligned columns, clips long cells and strips control characters', () => {
    const text = renderTable(
      [
        { header: 'ID', value: (r: { id: string; n: number }) => r.id, maxWidth: 8 },
        { header: 'N', value: (r) => String(r.n), alignRight: true },
      ],
      [
        { id: 'short', n: 5 },
        { id: 'a-very-long-id\u001b[2J', n: 123 },
      ],
    );
    expect(text).toBe('ID          N\nshort       5\na-very-…  123\n');
  });

  it('tail --type splits kinds for the server and exact types for the client', () => {
    const f = typeFilter('job.failed,worker');
    expect(f.kinds).toBe('job,worker');
    expect([f.accepts('job.failed'), f.accepts('job.completed'), f.accepts('worker.heartbeat')]).toEqual([true, false, true]);
    expect(() => typeFilter('jobs')).toThrow(/--type must be/);
  });
});
