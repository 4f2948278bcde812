/**
 * The job worker process: `jobscope worker` with the process's arguments and environment,
 * e.g. `node dist/workers/job-worker.js --connector comfyui`. Exit code 0 after a clean stop
 * on SIGTERM/SIGINT.
 */
import { run } from '../src/cli/commands/worker.js';

run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error('job worker failed:', err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
