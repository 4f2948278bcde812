/**
 * Every error class Jobscope throws, in one place. Each message says what went wrong and
 * what to do next, because most of them reach an operator reading a log line.
 */

/** Base class: lets callers tell Jobscope's own errors from everything else. */
export class JobscopeError extends Error {
  override readonly name: string = 'JobscopeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The message of whatever was thrown (an Error's, else its text). */
export function errorMessage(err: unknown): string {
  return (err as Error | undefined)?.message ?? String(err);
}

const CONFIG_FIX = {
  invalid: 'Fix the value (or unset it to use the default)',
  optional: 'Fix the value (or unset it where it is not needed: it has no default)',
  required: 'Fix the value',
  flag: 'Fix the value (or leave the flag out to use the default)',
} as const;

/** A configuration value (usually an environment variable) is missing or malformed. */
export class ConfigError extends JobscopeError {
  override readonly name = 'ConfigError';
  constructor(
    /** The variable or option that is wrong, e.g. `REDIS_URL`. */
    readonly variable: string,
    /** The rule it broke, in words. */
    readonly rule: string,
    /**
     * `missing`: a required variable is not set (the fix is to set it, not to unset it).
     * `optional`: a setting without a default, needed only by some roles (an API base URL a
     *   connector needs), has a bad value.
     * `required`: a setting without a default has a bad value (unsetting it is no fix).
     * `flag`: a bad value given as a command-line flag.
     */
    readonly kind: 'invalid' | 'missing' | 'optional' | 'required' | 'flag' = 'invalid',
  ) {
    super(
      kind === 'missing'
        ? `Missing configuration ${variable}: ${rule}. Set it and start again.`
        : `Invalid configuration ${variable}: ${rule}. ${CONFIG_FIX[kind]} and start again.`,
    );
  }
}

/** One problem found while validating input: where it is and what is wrong with it. */
export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `source.machineId`; empty for the whole value. */
  path: string;
  message: string;
}

/** Input (an event, an identity, a stream entry) failed validation. */
export class ValidationError extends JobscopeError {
  override readonly name = 'ValidationError';
  constructor(
    readonly what: string,
    readonly issues: ValidationIssue[],
  ) {
    super(`Invalid ${what}: ${formatIssues(issues)}`);
  }
}

/** Renders issues as `path: message; path: message`, bounded so a hostile input cannot blow up a log line. */
export function formatIssues(issues: ValidationIssue[], max = 5): string {
  const shown = issues.slice(0, max).map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  const more = issues.length > max ? `; and ${issues.length - max} more` : '';
  return shown.join('; ') + more;
}

/** An operation did not finish within its deadline. */
export class TimeoutError extends JobscopeError {
  override readonly name = 'TimeoutError';
  /** @param next What happens (or what to do) now, appended after the timeout. */
  constructor(operation: string, timeoutMs: number, next?: string) {
    super(`${operation} did not finish within ${timeoutMs} ms${next ? `; ${next}` : ''}`);
  }
}

/** An operation was attempted on something already closed. */
export class ClosedError extends JobscopeError {
  override readonly name = 'ClosedError';
  constructor(what: string) {
    super(`${what} is closed; create a new one`);
  }
}

/**
 * A server could not listen on its port. The message names the address, the likely cause and
 * the setting that picks another port; the system error is kept as `cause`.
 */
export class ListenError extends JobscopeError {
  override readonly name = 'ListenError';
  constructor(
    /** What was starting, e.g. `the API`. */
    what: string,
    address: string,
    /** How to choose another port, e.g. `PORT (or --port)`. */
    setting: string,
    cause: NodeJS.ErrnoException,
  ) {
    const why =
      cause.code === 'EADDRINUSE'
        ? `the port is already in use (another Jobscope, or another program). Stop that program, or pick another port with ${setting}`
        : cause.code === 'EACCES'
          ? `permission denied (ports below 1024 need privileges). Pick a port from 1024 up with ${setting}`
          : cause.code === 'EADDRNOTAVAIL'
            ? 'this machine has no such address. Check the host setting'
            : `${cause.message}. Check the address, or pick another port with ${setting}`;
    super(`${what} cannot listen on ${address}: ${why}.`, { cause });
  }
}
