import type { JobsResponse } from '../api-types.js';
import { parsePositiveInt, writeJson } from '../args.js';
import type { CliIo } from '../commands.js';
import { jobColumns } from '../job-columns.js';
import { COMMON_USAGE, runApiCommand } from '../run-command.js';
import { renderTable } from '../table.js';

const USAGE = `Usage: jobscope jobs [filters] [options]

Lists jobs, most recently updated first (GET /api/jobs).

Filters:
  --state <s>      received | running | retrying | completed | failed | cancelled
  --service <s>    service type, e.g. comfyui
  --machine <id>   --worker <id>   --connector <id>   --model <name>
  --from <time>    --to <time>     updated between (ISO time or Unix ms)
  --q <prefix>     job id prefix
  --limit <n>      jobs per page, 1-500 (default 50)
  --cursor <c>     next page (printed under the table)
${COMMON_USAGE}`;

const OPTIONS = {
  state: { type: 'string' },
  service: { type: 'string' },
  machine: { type: 'string' },
  worker: { type: 'string' },
  connector: { type: 'string' },
  model: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  q: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
} as const;

/** `jobscope jobs`: a filtered, paged list of jobs. */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runApiCommand(args, io, {
    options: OPTIONS,
    usage: USAGE,
    async body({ values: v }, client) {
      const page = await client.get<JobsResponse>('/api/jobs', {
        state: v.state,
        service: v.service,
        machine: v.machine,
        worker: v.worker,
        connector: v.connector,
        model: v.model,
        from: toUnixMs('from', v.from),
        to: toUnixMs('to', v.to),
        q: v.q,
        limit: parsePositiveInt('limit', v.limit),
        cursor: v.cursor,
      });
      if (v.json) {
        writeJson(io, page);
        return 0;
      }
      if (page.jobs.length === 0) {
        io.stdout.write(v.cursor ? 'No more jobs.\n' : 'No jobs match. Widen the filters, or check that workers are sending events (jobscope doctor).\n');
        return 0;
      }
      io.stdout.write(renderTable(jobColumns(Date.now()), page.jobs));
      if (page.nextCursor) io.stdout.write(`\nMore: jobscope jobs --cursor ${page.nextCursor}${repeatFilters(args)}\n`);
      return 0;
    },
  });
}

/** `--from`/`--to` accept Unix ms or anything Date parses (ISO). */
function toUnixMs(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(n)) throw new RangeError(`--${flag} must be an ISO time or Unix ms (got "${value}")`);
  return n;
}

/** The filters of this call, to repeat on the next-page hint (without the old cursor). */
function repeatFilters(args: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--cursor') i++;
    else if (!a.startsWith('--cursor=')) out.push(/\s/.test(a) ? JSON.stringify(a) : a);
  }
  return out.length ? ` ${out.join(' ')}` : '';
}
