import type { ErrorsResponse } from '../api-types.js';
import { parseSeconds, writeJson } from '../args.js';
import type { CliIo } from '../commands.js';
import { formatAgo } from '../format.js';
import { COMMON_USAGE, runApiCommand } from '../run-command.js';
import { renderTable } from '../table.js';

const USAGE = `Usage: jobscope errors [options]

Failures grouped by fingerprint, most frequent first (GET /api/errors).
  --window <seconds>  how far back (default 86400 = 24 h)
  --service <s>       only this service type
${COMMON_USAGE}`;

/** `jobscope errors`: failure groups with counts, first/last seen and an example job. */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runApiCommand(args, io, {
    options: { window: { type: 'string' }, service: { type: 'string' } },
    usage: USAGE,
    async body({ values: v }, client) {
      const windowS = parseSeconds('window', v.window);
      const res = await client.get<ErrorsResponse>('/api/errors', {
        window: windowS === undefined ? undefined : Math.round(windowS * 1000),
        service: v.service,
      });
      if (v.json) {
        writeJson(io, res);
        return 0;
      }
      if (res.groups.length === 0) {
        io.stdout.write('No failures in this window. (Widen it with --window <seconds>.)\n');
        return 0;
      }
      const now = Date.now();
      const groups = [...res.groups].sort((a, b) => b.count - a.count);
      io.stdout.write(
        renderTable(
          [
            { header: 'COUNT', value: (g) => String(g.count), alignRight: true },
            { header: 'SERVICE', value: (g) => g.serviceType, maxWidth: 20 },
            { header: 'ERROR', value: (g) => `${g.errorType} (${g.category})`, maxWidth: 36 },
            { header: 'MESSAGE', value: (g) => g.message, maxWidth: 60 },
            { header: 'FIRST', value: (g) => formatAgo(g.firstSeen, now), alignRight: true },
            { header: 'LAST', value: (g) => formatAgo(g.lastSeen, now), alignRight: true },
            { header: 'EXAMPLE JOB', value: (g) => g.exampleJobId, maxWidth: 36 },
          ],
          groups,
        ),
      );
      io.stdout.write('\nSee a job: jobscope job <EXAMPLE JOB>\n');
      return 0;
    },
  });
}
