/**
 * The API process: `node dist/workers/api-server.js`. Thin wiring around `jobscope api`
 * (src/cli/commands/api.ts), which serves until SIGTERM/SIGINT and then drains.
 */
import { JobscopeError } from '../src/errors.js';
import { run } from '../src/cli/commands/api.js';

run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof JobscopeError ? `api-server: ${err.message}` : err);
    process.exitCode = 1;
  },
);
