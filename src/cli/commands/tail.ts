import type { FeedEntry } from '../../status/types.js';
import { parsePositiveInt, parseSeconds } from '../args.js';
import type { CliIo } from '../commands.js';
import { followEventStream } from '../event-stream.js';
import { formatPercent } from '../format.js';
import { COMMON_USAGE, runApiCommand } from '../run-command.js';
import { createStopSignal } from '../stop-signal.js';
import { clean } from '../table.js';

const USAGE = `Usage: jobscope tail [filters] [options]

Prints status changes live as they happen (GET /api/stream), one line each; reconnects and
resumes without a gap if the connection drops. Stops on Ctrl-C, or:
  --for <seconds>  after this long
  --count <n>      after n events
Filters:
  --type <t>       job | worker, or event types such as job.failed (comma-separated)
  --service <s>    only this service type
  --job <id>       only this job
  --json           one JSON object per line
${COMMON_USAGE}`;

/** `jobscope tail`: live events from the SSE stream. */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runApiCommand(args, io, {
    options: { type: { type: 'string' }, service: { type: 'string' }, job: { type: 'string' }, for: { type: 'string' }, count: { type: 'string' } },
    usage: USAGE,
    async body({ values: v }, client) {
      const count = parsePositiveInt('count', v.count);
      const filter = typeFilter(v.type);
      const stop = createStopSignal({ forSeconds: parseSeconds('for', v.for) });
      let seen = 0;
      try {
        await followEventStream({
          client,
          query: { service: v.service, job: v.job, types: filter.kinds },
          signal: stop.signal,
          onState(state, detail) {
            if (state === 'reconnecting') io.stderr.write(`jobscope: stream ${state}${detail ? ` (${detail})` : ''}\n`);
            if (state === 'live') io.stderr.write(`jobscope: live, following ${client.baseUrl}/api/stream (Ctrl-C to stop)\n`);
          },
          onMessage(message) {
            if (stop.signal.aborted || (message.event !== 'job' && message.event !== 'worker')) return;
            const entry = JSON.parse(message.data) as FeedEntry;
            if (!filter.accepts(entry.eventType)) return;
            io.stdout.write(v.json ? `${JSON.stringify(entry)}\n` : `${tailLine(entry)}\n`);
            if (count !== undefined && ++seen >= count) stop.stop();
          },
        });
      } finally {
        stop.dispose();
      }
      return 0;
    },
  });
}

/** Splits `--type` into stream kinds (filtered by the server) and a check of exact event types. */
export function typeFilter(value: string | undefined): { kinds?: string; accepts(eventType: string): boolean } {
  if (!value) return { accepts: () => true };
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!/^(job|worker)(\.[a-z]+)?$/.test(item)) throw new RangeError(`--type must be job, worker or an event type such as job.failed (got "${item}")`);
  }
  const wholeKinds = new Set(items.filter((i) => !i.includes('.')));
  const exact = new Set(items.filter((i) => i.includes('.')));
  return {
    kinds: [...new Set(items.map((i) => i.split('.')[0]!))].join(','),
    accepts: (eventType) => wholeKinds.has(eventType.split('.')[0]!) || exact.has(eventType),
  };
}

/** One line per change: time, event, job, state, progress, identity. */
export function tailLine(e: FeedEntry): string {
  const time = new Date(e.time).toISOString().slice(11, 23);
  const subject = e.kind === 'job' ? `${clean(e.jobId ?? '-')}  ${e.state ?? ''}${e.attempt && e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}` : '';
  const progress = e.eventType === 'job.progress' ? `  ${formatPercent(e.progress)}` : '';
  return `${time}  ${e.eventType.padEnd(16)} ${subject}${progress}  ${clean(`${e.machineId}/${e.workerId}/${e.serviceType}`)}`;
}
