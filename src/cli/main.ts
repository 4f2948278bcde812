#!/usr/bin/env node
import { JobscopeError } from '../errors.js';
import { COMMANDS } from './commands.js';

/**
 * The `jobscope` command. Each sub-command lives in `src/cli/commands/<name>.ts` and exports
 * `run(args, io)`; this file only dispatches, so a command's dependencies load only when used.
 */

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return ['Usage: jobscope <command> [options]', '', 'Commands:', ...rows, '', 'Run "jobscope <command> --help" for its options.'].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`jobscope: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(args, { stdout: process.stdout, stderr: process.stderr, env: process.env });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof JobscopeError) console.error(`jobscope: ${err.message}`);
    else console.error('jobscope: unexpected error:', err);
    process.exitCode = 1;
  },
);
