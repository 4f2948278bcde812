/**
 * The pipeline worker process: `jobscope pipeline` with the process's environment. Exit code 0
 * after a clean drain on SIGTERM/SIGINT. Sinks beyond `null` are registered by the integrator's
 * wiring (status, metrics, fluentd, otel, sentry) before this runs.
 */
import { run } from '../src/cli/commands/pipeline.js';

run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error('pipeline worker failed:', err);
    process.exitCode = 1;
  },
);
