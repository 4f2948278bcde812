import type { FeedEntry } from '../../status/types.js';
import type { ApiClient } from '../api-client.js';
import type { JobDetailResponse } from '../api-types.js';
import { parsePositiveInt, parseSeconds } from '../args.js';
import type { CliIo } from '../commands.js';
import { followEventStream } from '../event-stream.js';
import { formatPercent } from '../format.js';
import { COMMON_USAGE, runApiCommand } from '../run-command.js';
import { createStopSignal } from '../stop-signal.js';
import { clean } from '../table.js';

// --json is one of the common options, but here it means one JSON line per change, not one
// answer: list it once, with that meaning.
const TAIL_COMMON_USAGE = COMMON_USAGE.replace(/^ {2}--json .*$/m, '  --json           one JSON object per change (the feed entry as the API streams it)');

const USAGE = `Usage: jobscope tail [filters] [options]

Prints status changes live as they happen (GET /api/stream), one line each; reconnects and
resumes without a gap if the connection drops. Stops on Ctrl-C, or:
  --for <seconds>  after this long
  --count <n>      after n events
Filters:
  --type <t>       job | worker, or event types such as job.failed (comma-separated)
  --service <s>    only this service type
  --job <id>       only this job
${TAIL_COMMON_USAGE}`;

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
      // Lines go out in arrival order, after the lookup a job.failed line without willRetry may
      // wait for; one lookup at a time keeps a burst of failures from becoming a burst of requests.
      let written: Promise<void> = Promise.resolve();
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
            if (count !== undefined && ++seen >= count) stop.stop();
            if (v.json) {
              io.stdout.write(`${JSON.stringify(entry)}\n`);
              return;
            }
            written = written.then(async () => {
              const retries = entry.eventType === 'job.failed' && entry.state === 'failed' ? await failedAttemptRetries(client, entry) : undefined;
              io.stdout.write(`${tailLine(entry, retries)}\n`);
            });
          },
        });
      } finally {
        stop.dispose();
        await written;
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

/**
 * Whether the attempt a `job.failed` feed entry belongs to is retried; undefined when unknown.
 * The entry's state cannot tell (`failed` both for a failure a retry follows and for the final
 * one); its `willRetry` does, with no request. Without it, this reads the job's record: entries
 * an older status sink wrote stay in the feed (and come back on a resume), and an event may not
 * have known.
 */
export async function failedAttemptRetries(client: ApiClient, e: FeedEntry): Promise<boolean | undefined> {
  if (e.willRetry !== undefined) return e.willRetry;
  if (e.jobId === undefined || e.attempt === undefined) return undefined;
  let job: JobDetailResponse['job'];
  try {
    job = (await client.get<JobDetailResponse>(`/api/jobs/${encodeURIComponent(e.jobId)}`)).job;
  } catch {
    return undefined; // expired, or a token that may not read it: the line stays as the feed has it
  }
  // The record describes its latest attempt only; a later one means this one was retried.
  if (job.attempt > e.attempt) return true;
  if (job.attempt < e.attempt) return undefined;
  return job.state === 'retrying' ? true : job.willRetry;
}

/**
 * One line per change: time, event, job, state, progress, identity. `willRetry`: for a
 * `job.failed`, whether a retry follows (see {@link failedAttemptRetries}).
 */
export function tailLine(e: FeedEntry, willRetry?: boolean): string {
  const time = new Date(e.time).toISOString().slice(11, 23);
  const notes = [e.attempt && e.attempt > 1 ? `attempt ${e.attempt}` : '', e.state === 'failed' && willRetry === true ? 'will retry' : ''].filter(Boolean);
  const subject = e.kind === 'job' ? `${clean(e.jobId ?? '-')}  ${e.state ?? ''}${notes.length ? ` (${notes.join(', ')})` : ''}` : '';
  const progress = e.eventType === 'job.progress' ? `  ${formatPercent(e.progress)}` : '';
  return `${time}  ${e.eventType.padEnd(16)} ${subject}${progress}  ${clean(`${e.machineId}/${e.workerId}/${e.serviceType}`)}`;
}
