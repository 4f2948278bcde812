import type { TimelineEntry } from '../../status/types.js';
import type { JobDetailResponse, JobView } from '../api-types.js';
import { usageError, writeJson } from '../args.js';
import type { CliIo } from '../commands.js';
import { formatDuration, formatPercent, formatTime, formatUsd, formatWhen } from '../format.js';
import { stateLabel } from '../job-columns.js';
import { COMMON_USAGE, runApiCommand } from '../run-command.js';
import { clean, renderTable } from '../table.js';

const USAGE = `Usage: jobscope job <id> [options]

Shows one job: its state, identity, usage, last error, links and timeline (GET /api/jobs/:id).
${COMMON_USAGE}`;

/** `jobscope job <id>`: one job's record and timeline. */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runApiCommand(args, io, {
    options: {},
    usage: USAGE,
    async body({ values, positionals }, client) {
      const id = positionals[0];
      if (id === undefined || positionals.length > 1) return usageError(io, 'give exactly one job id', USAGE);
      const detail = await client.get<JobDetailResponse>(`/api/jobs/${encodeURIComponent(id)}`);
      if (values.json) writeJson(io, detail);
      else io.stdout.write(renderJobDetail(detail, Date.now()));
      return 0;
    },
  });
}

/** The human-readable page of one job. */
export function renderJobDetail({ job, timeline, links }: JobDetailResponse, now: number): string {
  const lines = [
    `Job ${clean(job.id)}  ${stateLabel(job).toUpperCase()}  attempt ${job.attempt}`,
    `  identity   ${job.machineId}/${job.workerId}/${job.serviceType}/${job.connectorId}`,
  ];
  if (job.queue || job.name) lines.push(`  queue      ${job.queue ?? '-'}${job.name ? `  name ${job.name}` : ''}`);
  lines.push(
    `  received   ${formatWhen(job.receivedAt, now)}`,
    `  started    ${formatWhen(job.startedAt, now)}${job.queueWaitMs !== undefined ? `  (queue wait ${formatDuration(job.queueWaitMs)})` : ''}`,
    `  finished   ${formatWhen(job.finishedAt, now)}${job.durationMs !== undefined ? `  (took ${formatDuration(job.durationMs)})` : ''}`,
  );
  if (job.progress !== undefined) lines.push(`  progress   ${formatPercent(job.progress)}${job.stage ? `  ${job.stage}` : ''}`);
  lines.push(...usageLines(job));
  if (job.traceId) lines.push(`  trace      ${job.traceId}`);
  if (links.trace) lines.push(`  trace link ${links.trace}`);
  if (links.sentry) lines.push(`  sentry     ${links.sentry}`);
  if (job.lastError) {
    const e = job.lastError;
    lines.push('', `Last error: ${e.type} (${e.category})${job.willRetry ? ' — will retry' : ''}`, `  ${clean(e.message)}`);
    if (e.stack) lines.push(...e.stack.split('\n').slice(1, 8).map((l) => `  ${clean(l.trim())}`));
  }
  lines.push('', `Timeline (${timeline.length} events):`);
  return `${lines.join('\n')}\n${timeline.length ? renderTimeline(timeline) : '  (no events kept)\n'}`;
}

function usageLines(job: JobView): string[] {
  const ai = job.ai;
  if (!ai) return [];
  const tokens = [ai.inputTokens !== undefined ? `in ${ai.inputTokens}` : '', ai.outputTokens !== undefined ? `out ${ai.outputTokens}` : '']
    .filter(Boolean)
    .join(', ');
  return [`  model      ${ai.model ?? '-'}${ai.provider ? ` (${ai.provider})` : ''}${tokens ? `  tokens ${tokens}` : ''}  cost ${formatUsd(ai.costUsd)}`];
}

/** The timeline table: absolute time, time since the previous step, event and details. */
export function renderTimeline(timeline: TimelineEntry[]): string {
  const rows = timeline.map((e, i) => ({ e, delta: i === 0 ? undefined : e.time - timeline[i - 1]!.time }));
  return renderTable(
    [
      { header: '  TIME', value: (r) => `  ${formatTime(r.e.time)}` },
      { header: 'STEP', value: (r) => (r.delta === undefined ? '' : `+${formatDuration(r.delta)}`), alignRight: true },
      { header: 'ATT', value: (r) => String(r.e.attempt), alignRight: true },
      { header: 'EVENT', value: (r) => r.e.type },
      { header: 'DETAIL', value: (r) => timelineDetail(r.e), maxWidth: 70 },
    ],
    rows,
  );
}

function timelineDetail(e: TimelineEntry): string {
  const parts: string[] = [];
  if (e.progress !== undefined) parts.push(formatPercent(e.progress));
  if (e.durationMs !== undefined) parts.push(`took ${formatDuration(e.durationMs)}`);
  if (e.errorType) parts.push(`${e.errorType}: ${e.errorMessage ?? ''}`);
  if (e.message) parts.push(e.message);
  return parts.join('  ');
}
