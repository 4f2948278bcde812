import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * Helpers for reading environment variables through zod. Each area (redis, publisher,
 * pipeline, sinks, api) declares the variables it reads with {@link readEnv}; a bad value
 * fails at start with a {@link ConfigError} naming the variable and the rule.
 */

/** The environment, passed in (only `src/config` and `workers/` touch `process.env`). */
export type Env = Readonly<Record<string, string | undefined>>;

/** An integer variable with bounds and a default. */
export function intVar(defaultValue: number, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional()
    .transform((v) => v ?? defaultValue);
}

/** A decimal variable with bounds and a default. */
export function numberVar(defaultValue: number, min = 0, max = Number.MAX_VALUE) {
  return z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, 'must be a number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional()
    .transform((v) => v ?? defaultValue);
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/** A boolean variable: 1/true/yes/on or 0/false/no/off. */
export function boolVar(defaultValue: boolean) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .refine((s) => TRUE.includes(s) || FALSE.includes(s), 'must be one of 1, true, yes, on, 0, false, no, off')
    .transform((s) => TRUE.includes(s))
    .optional()
    .transform((v) => v ?? defaultValue);
}

/** A string variable with a default; empty counts as unset. */
export function stringVar(defaultValue: string) {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? defaultValue : v.trim()));
}

/** An optional string variable; empty counts as unset. */
export function optionalStringVar() {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
}

/** One of a fixed set of values. */
export function enumVar<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .refine((s) => (values as readonly string[]).includes(s), `must be one of ${values.join(', ')}`)
    .optional()
    .transform((v) => (v ?? defaultValue) as T[number]);
}

/** A comma-separated list. */
export function listVar(defaultValue: string[] = []) {
  return z
    .string()
    .optional()
    .transform((v) =>
      v === undefined || v.trim() === ''
        ? defaultValue
        : v
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
    );
}

/** A URL variable (optional), checked for a protocol among `protocols`. */
export function urlVar(protocols: string[]) {
  return z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
    .refine((v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`);
}

/**
 * Reads the variables named in `shape` from `env`. Throws a {@link ConfigError} for the first
 * bad variable, naming it and the rule it broke.
 */
export function readEnv<S extends z.ZodRawShape>(shape: S, env: Env): z.infer<z.ZodObject<S>> {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(shape)) picked[key] = env[key];
  const r = z.object(shape).safeParse(picked);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const value = picked[variable];
    const shown = value === undefined ? '' : ` (got "${value.slice(0, 80)}")`;
    // What unsetting it would give: the default, nothing (say so instead of promising a default), or an error.
    const schema = shape[variable];
    const unset = schema ? z.safeParse(schema, undefined) : undefined;
    const kind = !unset || unset.data !== undefined ? 'invalid' : unset.success ? 'optional' : 'required';
    throw new ConfigError(variable, `${issue.message}${shown}`, kind);
  }
  return r.data;
}
