import type { FeedEntry } from '../../status/types.js';
import type { JobsResponse, StatsResponse } from '../api-types.js';
import type { ApiClient } from '../api-client.js';
import { parsePositiveInt, parseSeconds, writeJson } from '../args.js';
import type { CliIo } from '../commands.js';
import { followEventStream, type StreamState } from '../event-stream.js';
import { formatTime } from '../format.js';
import { jobColumns } from '../job-columns.js';
import { COMMON_USAGE, runApiCommand } from '../run-command.js';
import { createStopSignal } from '../stop-signal.js';
import { renderTable } from '../table.js';
import { createWatchModel, type WatchModel } from '../watch-model.js';

// --json is one of the common options, but here it changes what watch does: list it once, with
// that meaning.
const WATCH_COMMON_USAGE = COMMON_USAGE.replace(/^ {2}--json .*$/m, '  --json           draw no table; on exit, print the final rows and counts as JSON');

const USAGE = `Usage: jobscope watch [options]

A live table of the most recently updated jobs with counts by state, redrawn as changes
arrive over the SSE stream. Stops on Ctrl-C or after --for.
  --for <seconds>  stop after this long
  --limit <n>      rows shown (default 20)
  --state <s>      --service <s>   only these jobs
${WATCH_COMMON_USAGE}`;

/** Least time between two redraws, in ms: bursts of changes become one frame. */
const REDRAW_MS = 100;
/** How often the counts are re-read from the API, in ms (the feed keeps them close in between). */
const RESYNC_MS = 10_000;

/** `jobscope watch`: the live job table in the terminal. */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runApiCommand(args, io, {
    options: { for: { type: 'string' }, limit: { type: 'string' }, state: { type: 'string' }, service: { type: 'string' } },
    usage: USAGE,
    async body({ values: v }, client) {
      const limit = parsePositiveInt('limit', v.limit) ?? 20;
      const filter = { state: v.state, service: v.service };
      const model = createWatchModel(limit);
      await resync(client, model, filter, limit);
      const tty = (io.stdout as { isTTY?: boolean }).isTTY === true;
      let state: StreamState = 'connecting';
      let timer: NodeJS.Timeout | undefined;
      const draw = (): void => {
        timer = undefined;
        if (!v.json) io.stdout.write((tty ? '\x1b[H\x1b[2J' : '') + renderWatch(model, client.baseUrl, state, Date.now()) + (tty ? '' : '\n'));
      };
      const schedule = (): void => {
        timer ??= setTimeout(draw, REDRAW_MS);
      };
      const stop = createStopSignal({ forSeconds: parseSeconds('for', v.for) });
      const resyncTimer = setInterval(() => {
        resync(client, model, filter, limit).then(schedule, (err: Error) => io.stderr.write(`jobscope: refresh failed: ${err.message}\n`));
      }, RESYNC_MS);
      draw();
      try {
        await followEventStream({
          client,
          query: { ...filter, types: 'job' },
          signal: stop.signal,
          onState(next) {
            state = next;
            schedule();
          },
          onMessage(m) {
            if (m.event === 'job' && model.apply(JSON.parse(m.data) as FeedEntry)) schedule();
          },
        });
      } finally {
        stop.dispose();
        clearInterval(resyncTimer);
        if (timer) clearTimeout(timer);
      }
      if (v.json) writeJson(io, { jobs: model.rows(), counts: model.counts(), applied: model.applied });
      else draw();
      return 0;
    },
  });
}

async function resync(client: ApiClient, model: WatchModel, filter: { state?: string; service?: string }, limit: number): Promise<void> {
  const [page, stats] = await Promise.all([
    client.get<JobsResponse>('/api/jobs', { ...filter, limit }),
    client.get<StatsResponse>('/api/stats', { window: 60_000 }),
  ]);
  model.setJobs(page.jobs);
  model.setCounts(stats.jobsByState);
}

/** One frame: header with the connection state, counts by state, the table. */
export function renderWatch(model: WatchModel, apiUrl: string, state: StreamState, now: number): string {
  const counts = Object.entries(model.counts())
    .map(([s, n]) => `${s} ${n}`)
    .join('   ');
  const stateText = state === 'live' ? 'LIVE' : state === 'connecting' ? 'CONNECTING…' : 'RECONNECTING… (showing the last known state)';
  const rows = model.rows();
  const body = rows.length
    ? renderTable(jobColumns(now), rows)
    : 'No jobs yet. They appear here as soon as a worker reports one.\n';
  return `jobscope watch  ${apiUrl}  ${stateText}  ${formatTime(now)}\n${counts}\n\n${body}`;
}
