import type { StatsResponse } from '../api-types.js';
import { parseSeconds, writeJson } from '../args.js';
import type { CliIo } from '../commands.js';
import { formatDuration, formatUsd } from '../format.js';
import { COMMON_USAGE, runApiCommand } from '../run-command.js';
import { clean } from '../table.js';

const USAGE = `Usage: jobscope stats [options]

Throughput, latency, error rate, queue wait and cost over a window (GET /api/stats).
  --window <seconds>  how far back (default 3600 = 1 h)
${COMMON_USAGE}`;

/** `jobscope stats`: the numbers of the dashboard's charts, as text. */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runApiCommand(args, io, {
    options: { window: { type: 'string' } },
    usage: USAGE,
    async body({ values: v }, client) {
      const windowS = parseSeconds('window', v.window);
      const stats = await client.get<StatsResponse>('/api/stats', { window: windowS === undefined ? undefined : Math.round(windowS * 1000) });
      if (v.json) writeJson(io, stats);
      else io.stdout.write(renderStats(stats));
      return 0;
    },
  });
}

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart of `values` (empty string for none). */
export function sparkline(values: number[]): string {
  const max = Math.max(0, ...values);
  return values.map((v) => (max === 0 ? BARS[0] : BARS[Math.min(BARS.length - 1, Math.floor((v / max) * (BARS.length - 1)))])).join('');
}

/** When throughput is over less than the window (older servers do not say): over how long, and why. */
function spanNote(s: StatsResponse): string {
  const span = (s as Partial<StatsResponse>).throughputSpanMs;
  if (span === undefined || span >= s.windowMs - 1000) return '';
  return ` (over the last ${formatDuration(span)}, ${s.capped ? 'the time the jobs read cover' : 'since the first job the store holds'})`;
}

/** The human-readable stats page. */
export function renderStats(s: StatsResponse): string {
  const states = Object.entries(s.jobsByState)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const finished = s.buckets.map((b) => b.completed + b.failed);
  const lines = [
    `Window: last ${formatDuration(s.windowMs)}${s.capped ? ` — the newest ${s.scanned} jobs only (the server reads at most that many, JOBSCOPE_INSIGHTS_MAX_JOBS): older jobs and their cost are not counted; pick a shorter --window` : ''}`,
    `  throughput    ${s.throughputPerMin.toFixed(1)} jobs/min${spanNote(s)}   ${sparkline(finished)}`,
    `  duration      p50 ${formatDuration(s.durationMs.p50)}   p95 ${formatDuration(s.durationMs.p95)}`,
    `  queue wait    p50 ${formatDuration(s.queueWaitMs.p50)}   p95 ${formatDuration(s.queueWaitMs.p95)}`,
    `  error rate    ${(s.errorRate * 100).toFixed(1)}%`,
    `  cost          ${formatUsd(s.costUsd.total)}   ${sparkline(s.buckets.map((b) => b.costUsd))}`,
    `  jobs by state ${states || '-'}`,
  ];
  const top = (rec: Record<string, number>) =>
    Object.entries(rec)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k, usd]) => `    ${clean(k).padEnd(30)} ${formatUsd(usd)}`);
  if (Object.keys(s.costUsd.byModel).length) lines.push('  cost by model', ...top(s.costUsd.byModel));
  if (Object.keys(s.costUsd.byService).length) lines.push('  cost by service', ...top(s.costUsd.byService));
  return `${lines.join('\n')}\n`;
}
