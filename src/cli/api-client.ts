import { JobscopeError } from '../errors.js';

/**
 * A small client of the Jobscope HTTP API (the CLI's only way to the data, except `doctor`).
 * Turns every failure into an {@link ApiError} whose message says what to do.
 */

/** Options of {@link createApiClient}. */
export interface ApiClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:3000` (no trailing slash needed). */
  baseUrl: string;
  /** Bearer token (`JOBSCOPE_API_TOKEN`); omitted = anonymous. */
  token?: string;
  /** Per-request timeout in ms. Default 10000. */
  timeoutMs?: number;
  /** The fetch to use (tests). Default: global fetch. */
  fetch?: typeof fetch;
}

/** A request to the API failed: unreachable, timed out, or answered with an error status. */
export class ApiError extends JobscopeError {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    /** HTTP status, or 0 when the API could not be reached. */
    readonly status: number,
    /** The API's error code (`bad_request`, `unauthorized`, …), when it sent one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Query parameters; undefined values are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** The client. */
export interface ApiClient {
  readonly baseUrl: string;
  readonly token?: string;
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body: unknown): Promise<T>;
  /** The full URL of `path` with `query`. */
  url(path: string, query?: Query): string;
}

/** Creates an {@link ApiClient}. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const doFetch = options.fetch ?? fetch;

  function url(path: string, query: Query = {}): string {
    const u = new URL(baseUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  async function request<T>(method: string, path: string, query?: Query, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const target = url(path, query);
    let res: Response;
    try {
      res = await doFetch(target, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw unreachable(baseUrl, err, timeoutMs);
    }
    const text = await res.text();
    if (!res.ok) throw statusError(res.status, text, options.token !== undefined);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(`The API at ${baseUrl} answered ${method} ${path} with something that is not JSON; is --api pointing at a Jobscope API?`, res.status);
    }
  }

  return {
    baseUrl,
    token: options.token,
    url,
    get: (path, query) => request('GET', path, query),
    post: (path, body) => request('POST', path, undefined, body),
  };
}

function unreachable(baseUrl: string, err: unknown, timeoutMs: number): ApiError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return new ApiError(`The API at ${baseUrl} did not answer within ${timeoutMs} ms. Check that it is running and not overloaded.`, 0);
  const why = e.cause?.code ?? e.cause?.message ?? e.message;
  return new ApiError(`Cannot reach the Jobscope API at ${baseUrl} (${why}). Start it ("jobscope api"), or point --api / JOBSCOPE_API_URL at it.`, 0);
}

function statusError(status: number, text: string, hadToken: boolean): ApiError {
  let code: string | undefined;
  let message = text.slice(0, 300);
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    code = body.error?.code;
    message = body.error?.message ?? message;
  } catch {
    // not JSON: keep the raw text
  }
  let advice = '';
  if (status === 401) advice = hadToken ? ' The token was refused: check --token / JOBSCOPE_API_TOKEN.' : ' Pass --token or set JOBSCOPE_API_TOKEN.';
  else if (status === 403) advice = ' This token may not read this resource (a per-job token reads only its own job).';
  return new ApiError(`API error ${status}${code ? ` ${code}` : ''}: ${message}.${advice}`, status, code);
}
