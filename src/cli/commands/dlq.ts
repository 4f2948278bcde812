import type { DlqResponse } from '../api-types.js';
import { parsePositiveInt, usageError, writeJson } from '../args.js';
import type { CliIo } from '../commands.js';
import { formatAgo } from '../format.js';
import { COMMON_USAGE, runApiCommand } from '../run-command.js';
import { renderTable } from '../table.js';

const USAGE = `Usage: jobscope dlq list [--limit <n>] [--cursor <c>] [options]
       jobscope dlq replay (--all | <id> ...) [options]

Dead letters: events a sink could not deliver after its retries, or that were invalid.
"replay" puts them back on the event stream and removes them from the dead-letter stream; an
event that several sinks dead-lettered goes back once (every sink reads it again). Replays run
at the same time share the dead letters out: each goes back once, counted by the one that took it.
  --limit <n>   entries per page (default 50)
  --all         replay every dead letter there when it starts (any the pipeline dead-letters
                again during the replay stay, for a later one)
${COMMON_USAGE}`;

/** `jobscope dlq list|replay`: inspect and replay dead letters. */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runApiCommand(args, io, {
    options: { limit: { type: 'string' }, cursor: { type: 'string' }, all: { type: 'boolean', default: false } },
    usage: USAGE,
    async body({ values: v, positionals }, client) {
      const [sub, ...ids] = positionals;
      if (sub === 'list') {
        const res = await client.get<DlqResponse>('/api/dlq', { limit: parsePositiveInt('limit', v.limit), cursor: v.cursor });
        if (v.json) writeJson(io, res);
        else io.stdout.write(renderDlq(res, Date.now()));
        return 0;
      }
      if (sub === 'replay') {
        if (v.all === (ids.length > 0)) return usageError(io, 'replay takes either --all or dead-letter ids, not both or neither', USAGE);
        const res = await client.post<{ replayed: number }>('/api/dlq/replay', v.all ? { all: true } : { ids });
        if (v.json) writeJson(io, res);
        else io.stdout.write(`Replayed ${res.replayed} dead letter(s) onto the event stream.\n${v.all ? '' : notReplayed(ids, res.replayed)}`);
        return 0;
      }
      return usageError(io, sub === undefined ? 'missing sub-command: list or replay' : `unknown sub-command "${sub}"`, USAGE);
    },
  });
}

/**
 * Why some named ids were not replayed. Not an error: the usual cause is another replay (a second
 * CLI call, a `--all`) that took them first, and what the user asked for is done either way.
 */
function notReplayed(ids: readonly string[], replayed: number): string {
  const missing = new Set(ids).size - replayed;
  if (missing <= 0) return '';
  return `${missing} of the named dead letter(s) ${missing === 1 ? 'was' : 'were'} not replayed: already replayed (perhaps by another replay running at the same time), no such id, or not from this installation's event streams (those stay). "jobscope dlq list" shows what is left.\n`;
}

/** The dead-letter list as text. */
export function renderDlq(res: DlqResponse, now: number): string {
  if (res.entries.length === 0) return `No dead letters (total ${res.total}). Nothing to replay.\n`;
  const table = renderTable(
    [
      { header: 'ID', value: (e) => e.id },
      { header: 'AGE', value: (e) => formatAgo(e.time, now), alignRight: true },
      { header: 'SINK', value: (e) => e.sink, maxWidth: 16 },
      { header: 'TRIES', value: (e) => String(e.deliveries), alignRight: true },
      { header: 'EVENT', value: (e) => e.eventType ?? '-', maxWidth: 18 },
      { header: 'REASON', value: (e) => e.reason, maxWidth: 70 },
    ],
    res.entries,
  );
  const more = res.nextCursor ? `More: jobscope dlq list --cursor ${res.nextCursor}\n` : '';
  return `${table}\n${res.entries.length} shown of ${res.total}. Fix the cause, then: jobscope dlq replay --all (or the ids)\n${more}`;
}
