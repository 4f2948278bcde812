import type { ParseArgsConfig } from 'node:util';
import { JobscopeError } from '../errors.js';
import { createApiClient, type ApiClient } from './api-client.js';
import { apiTarget, parseCommand, type ParsedCommand } from './args.js';
import type { CliIo } from './commands.js';

/**
 * The frame of every API-reading command: parse the arguments (exit 2 on a usage error),
 * print help on `--help`, build the API client, and turn a Jobscope error into one stderr line
 * and exit code 1, so the command body only does its job.
 */

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** What {@link runApiCommand} needs. */
export interface ApiCommandSpec<O extends OptionSpec> {
  options: O;
  /** Usage text, printed on `--help` and after a usage error. */
  usage: string;
  /** The command body; resolves with the exit code. */
  body(parsed: ParsedCommand<O>, client: ApiClient, io: CliIo): Promise<number>;
}

/** Runs an API-reading command; see the file comment. */
export async function runApiCommand<O extends OptionSpec>(args: string[], io: CliIo, spec: ApiCommandSpec<O>): Promise<number> {
  const parsed = parseCommand(args, spec.options, io, spec.usage);
  if (!parsed) return 2;
  const common = parsed.values as { help?: boolean; api?: string; token?: string };
  if (common.help) {
    io.stdout.write(`${spec.usage}\n`);
    return 0;
  }
  try {
    const client = createApiClient(apiTarget(common, io));
    return await spec.body(parsed, client, io);
  } catch (err) {
    if (err instanceof JobscopeError || err instanceof RangeError) {
      io.stderr.write(`jobscope: ${err.message}\n`);
      return err instanceof RangeError ? 2 : 1;
    }
    throw err;
  }
}

/** The usage text of every API command ends with these lines. */
export const COMMON_USAGE = [
  '  --api <url>      API base URL (default JOBSCOPE_API_URL or http://127.0.0.1:3000)',
  '  --token <token>  API token (default JOBSCOPE_API_TOKEN)',
  '  --json           print the API answer as JSON',
  '  -h, --help       show this help',
].join('\n');
