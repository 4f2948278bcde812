import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadCliConfig, type CliConfig } from '../config/cli-config.js';
import type { CliIo } from './commands.js';

/**
 * Argument parsing shared by the read commands: every one takes `--api`, `--token`, `--json`
 * and `--help` on top of its own options, so they are declared once here.
 */

type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** The options every API-reading command accepts. */
export const COMMON_OPTIONS = {
  api: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies OptionSpec;

/** What `parseArgs` returns for a command's options plus {@link COMMON_OPTIONS}. */
export type ParsedCommand<O extends OptionSpec> = ReturnType<
  typeof parseArgs<{ options: O & typeof COMMON_OPTIONS; allowPositionals: true; strict: true }>
>;

/**
 * Parses `args` against `options` plus {@link COMMON_OPTIONS}. On a usage error it writes the
 * problem and the usage text to stderr and returns `undefined` (the command exits with 2).
 */
export function parseCommand<O extends OptionSpec>(args: string[], options: O, io: CliIo, usage: string): ParsedCommand<O> | undefined {
  try {
    return parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true }) as ParsedCommand<O>;
  } catch (err) {
    io.stderr.write(`jobscope: ${(err as Error).message}\n\n${usage}\n`);
    return undefined;
  }
}

/** Writes a usage error and returns exit code 2. */
export function usageError(io: CliIo, message: string, usage: string): number {
  io.stderr.write(`jobscope: ${message}\n\n${usage}\n`);
  return 2;
}

/** The API location and token: flags win over `JOBSCOPE_API_URL` / `JOBSCOPE_API_TOKEN`. */
export function apiTarget(values: { api?: string; token?: string }, io: CliIo): { baseUrl: string; token?: string } {
  const config: CliConfig = loadCliConfig(io.env);
  return { baseUrl: (values.api ?? config.apiUrl).replace(/\/+$/, ''), token: values.token ?? config.apiToken };
}

/** Parses a positive number of seconds (`--for 10`, `--for 0.5`), or throws with the flag named. */
export function parseSeconds(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--${flag} must be a positive number of seconds (got "${value}")`);
  return n;
}

/** Parses a positive whole number (`--count 5`), or throws with the flag named. */
export function parsePositiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new RangeError(`--${flag} must be a whole number ≥ 1 (got "${value}")`);
  return Number(value);
}

/** Writes `value` as pretty JSON (the `--json` output of every read command). */
export function writeJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
