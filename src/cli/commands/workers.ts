import type { WorkersResponse, WorkerView } from '../api-types.js';
import { writeJson } from '../args.js';
import type { CliIo } from '../commands.js';
import { formatAgo } from '../format.js';
import { COMMON_USAGE, runApiCommand } from '../run-command.js';
import { clean } from '../table.js';

const USAGE = `Usage: jobscope workers [options]

Shows the worker tree machine → worker → service with liveness and current jobs (GET /api/workers).
${COMMON_USAGE}`;

/** `jobscope workers`: the machine → worker → service tree. */
export async function run(args: string[], io: CliIo): Promise<number> {
  return runApiCommand(args, io, {
    options: {},
    usage: USAGE,
    async body({ values }, client) {
      const tree = await client.get<WorkersResponse>('/api/workers');
      if (values.json) writeJson(io, tree);
      else io.stdout.write(renderWorkerTree(tree, Date.now()));
      return 0;
    },
  });
}

/** The tree as text, with a summary line of counts. */
export function renderWorkerTree(tree: WorkersResponse, now: number): string {
  const c = tree.counts;
  const lines = [`Workers: ${c.busy} busy, ${c.idle} idle, ${c.dead} dead, ${c.stopped} stopped`];
  if (tree.machines.length === 0) {
    lines.push('', 'No workers have reported yet. Start a job worker; it registers with its first heartbeat.');
    return `${lines.join('\n')}\n`;
  }
  tree.machines.forEach((m, mi) => {
    const lastMachine = mi === tree.machines.length - 1;
    lines.push(`${lastMachine ? '└─' : '├─'} ${clean(m.machineId)}`);
    const pad = lastMachine ? '   ' : '│  ';
    m.workers.forEach((w, wi) => {
      const lastWorker = wi === m.workers.length - 1;
      lines.push(`${pad}${lastWorker ? '└─' : '├─'} ${workerLine(w, now)}`);
      const pad2 = pad + (lastWorker ? '   ' : '│  ');
      w.services.forEach((s, si) => {
        const branch = si === w.services.length - 1 ? '└─' : '├─';
        lines.push(`${pad2}${branch} ${clean(s.serviceType)} (${clean(s.connectorId)}${s.instance ? `, ${clean(s.instance)}` : ''})`);
      });
    });
  });
  return `${lines.join('\n')}\n`;
}

function workerLine(w: WorkerView, now: number): string {
  const badge = `[${w.liveness.toUpperCase()}]`;
  const beat = w.lastHeartbeatAt ? `  heartbeat ${formatAgo(w.lastHeartbeatAt, now)}` : '';
  const jobs = w.currentJobs.length ? `  jobs: ${w.currentJobs.slice(0, 5).map(clean).join(', ')}${w.currentJobs.length > 5 ? ` +${w.currentJobs.length - 5}` : ''}` : '';
  return `${clean(w.workerId)} ${badge}${beat}${jobs}`;
}
