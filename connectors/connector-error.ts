import type { ErrorCategory } from '../src/events/index.js';
import { JobscopeError } from '../src/errors.js';

/** Options of a {@link ConnectorError}. */
export interface ConnectorErrorOptions {
  /** How the failure is classified on the `job.failed` event. */
  category: ErrorCategory;
  /** False when a retry cannot help (bad input, content filter): the job fails at once. Default true. */
  retryable?: boolean;
  /** A short code, e.g. an HTTP status `429` or `ECONNRESET`. */
  code?: string;
  /** The error's type name on the event. Default `ConnectorError`. */
  type?: string;
  /** How long the service asked to wait before trying again, in ms (`Retry-After`); the `retry-after` backoff honours it. */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A failure a connector classified itself. `toErrorInfo` reads `type`, `category` and `code`
 * from it; the runtime reads `retryable` to stop BullMQ from retrying what cannot succeed.
 */
export class ConnectorError extends JobscopeError {
  override readonly name: string = 'ConnectorError';
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly code: string | undefined;
  readonly type: string;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ConnectorErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.category = options.category;
    this.retryable = options.retryable ?? true;
    this.code = options.code;
    this.type = options.type ?? 'ConnectorError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** True when `err` says a retry cannot help. */
export function isNonRetryable(err: unknown): boolean {
  return err instanceof ConnectorError && !err.retryable;
}
