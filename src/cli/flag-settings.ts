import { ConfigError } from '../errors.js';

/** A command-line flag that stands for a setting, and the value it was given (undefined: not given). */
export type FlagSetting = readonly [flag: string, variable: string, value: string | undefined];

/** See {@link flagSettings}. */
export interface FlagSettings {
  /** The environment with the given flags' values in place of their variables. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs `read` on {@link env}; a ConfigError about a flag's variable names the flag instead. */
  load<T>(read: (env: NodeJS.ProcessEnv) => T): T;
}

/**
 * Flags that stand for settings (`--concurrency` for `WORKER_CONCURRENCY`) are read by putting
 * their values into the environment, so one loader checks both. A bad value must then be
 * reported as what the user typed, `--concurrency (WORKER_CONCURRENCY)`, not as a variable
 * they never set.
 */
export function flagSettings(env: NodeJS.ProcessEnv, flags: readonly FlagSetting[]): FlagSettings {
  const merged: NodeJS.ProcessEnv = { ...env };
  const names = new Map<string, string>();
  for (const [flag, variable, value] of flags) {
    if (value === undefined) continue;
    merged[variable] = value;
    names.set(variable, `${flag} (${variable})`);
  }
  return {
    env: merged,
    load(read) {
      try {
        return read(merged);
      } catch (err) {
        const name = err instanceof ConfigError ? names.get(err.variable) : undefined;
        if (name === undefined) throw err;
        const e = err as ConfigError;
        throw new ConfigError(name, e.rule, 'flag');
      }
    },
  };
}
