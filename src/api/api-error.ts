import { JobscopeError } from '../errors.js';

/** HTTP status codes the API answers errors with. */
export type ApiErrorStatus = 400 | 401 | 403 | 404 | 409 | 500 | 503;

/**
 * An error the API turns into `{ error: { code, message } }` with its status. Thrown from
 * handlers and middleware; anything else becomes a 500 `internal` error.
 */
export class ApiError extends JobscopeError {
  override readonly name = 'ApiError';
  constructor(
    /** HTTP status. */
    readonly status: ApiErrorStatus,
    /** Stable machine-readable code, e.g. `bad_parameter`, `unauthorized`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A 400 naming the parameter that is wrong and the rule it broke. */
export function badParameter(name: string, rule: string): ApiError {
  return new ApiError(400, 'bad_parameter', `Invalid parameter "${name}": ${rule}`);
}

/** The JSON body of an error response. */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
