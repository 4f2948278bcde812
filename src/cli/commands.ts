import type { Writable } from 'node:stream';

/** What a command gets: its output streams and the environment. */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
}

/** A sub-command module: `src/cli/commands/<name>.ts`. Resolves with the exit code. */
export interface CommandModule {
  run(args: string[], io: CliIo): Promise<number>;
}

interface CommandEntry {
  summary: string;
  load: () => Promise<CommandModule>;
}

/** Every `jobscope` sub-command, loaded lazily. */
export const COMMANDS: Record<string, CommandEntry> = {};

/** Registers a command; the table below is the one list of them. */
function command(name: string, summary: string, load: () => Promise<CommandModule>): void {
  COMMANDS[name] = { summary, load };
}

command('start', 'Run the whole stack locally: pipeline, API + dashboard, demo workers and producer', () => import('./commands/start.js'));
command('pipeline', 'Run a pipeline worker: consumer-group loops that forward events to the sinks', () => import('./commands/pipeline.js'));
command('worker', 'Run a BullMQ job worker that reports every job to Jobscope (--connector <name>)', () => import('./commands/worker.js'));
command('demo', 'Enqueue a continuous demo mix of jobs (optionally run demo workers)', () => import('./commands/demo.js'));
command('api', 'Serve the HTTP API, live SSE stream, /metrics and the dashboard', () => import('./commands/api.js'));
command('watch', 'Live table of recent jobs with counts by state (--for <s>)', () => import('./commands/watch.js'));
command('jobs', 'List jobs with filters (state, service, machine, worker, model, id prefix)', () => import('./commands/jobs.js'));
command('job', 'One job: record, last error, links and timeline', () => import('./commands/job.js'));
command('workers', 'Worker tree machine → worker → service with liveness', () => import('./commands/workers.js'));
command('tail', 'Print status changes live (--type, --service, --job, --for, --count)', () => import('./commands/tail.js'));
command('errors', 'Failures grouped by fingerprint', () => import('./commands/errors.js'));
command('stats', 'Throughput, latency, error rate, queue wait and cost', () => import('./commands/stats.js'));
command('dlq', 'Dead letters: list | replay (--all | ids…)', () => import('./commands/dlq.js'));
command('doctor', 'Check Redis, streams, dead letters, workers and sinks (exit 1 on a failure)', () => import('./commands/doctor.js'));
