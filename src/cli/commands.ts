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

// Registered as their modules land; see src/cli/commands/.
void command;
