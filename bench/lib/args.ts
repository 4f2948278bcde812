/**
 * The options every benchmark understands, so the runner can drive them alike:
 * `--quick` (smaller sizes, for validating the harness) and `--rounds N` (default 5, at least 5
 * unless `--quick` asks for fewer explicitly). Other arguments are left to the script.
 */

/** What {@link runOptions} read. */
export interface RunOptions {
  quick: boolean;
  /** Measured rounds (after warm-up). */
  rounds: number;
}

/** Reads `--quick` and `--rounds N` / `--rounds=N` from `argv` (default `process.argv`). */
export function runOptions(argv: readonly string[] = process.argv.slice(2), defaultRounds = 5): RunOptions {
  const quick = argv.includes('--quick');
  let rounds = defaultRounds;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = a === '--rounds' ? argv[i + 1] : a.startsWith('--rounds=') ? a.slice('--rounds='.length) : undefined;
    if (value === undefined) continue;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--rounds must be a positive integer, got "${value}"`);
    rounds = n;
  }
  return { quick, rounds };
}

/** `full` normally, `quick` under `--quick`. */
export function sized<T>(options: RunOptions, full: T, quick: T): T {
  return options.quick ? quick : full;
}

/** The positional arguments (those not starting with `--`, and not the value of `--rounds`). */
export function positionals(argv: readonly string[] = process.argv.slice(2)): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--rounds') i++;
    else if (!a.startsWith('--')) out.push(a);
  }
  return out;
}
