import type { ErrorCategory } from '../src/events/index.js';
import { ConnectorError } from './connector-error.js';

/** The answer headers {@link httpError} reads (a fetch `Headers` will do). */
export interface ResponseHeaders {
  get(name: string): string | null;
}

interface Kind {
  what: string;
  category: ErrorCategory;
  type: string;
  retryable: boolean;
}

/**
 * What an HTTP status (and the API's own error code, where it changes the answer) means:
 * 429 → rate_limit (retry; not when the code is `insufficient_quota`), 408 → timeout (retry),
 * 409 → model (retry, as openai-node does), 502/503/504 → network (retry), other 5xx → model
 * (retry), 401/403 → authentication, 404 → not found, other 4xx → validation (no retry).
 */
function kindOfStatus(status: number, apiCode: string | undefined): Kind {
  if (apiCode === 'insufficient_quota') return { what: 'quota exhausted: check the plan and billing', category: 'rate_limit', type: 'InsufficientQuotaError', retryable: false };
  if (status === 429) return { what: 'rate limited', category: 'rate_limit', type: 'RateLimitError', retryable: true };
  if (status === 408) return { what: 'request timeout', category: 'timeout', type: 'RequestTimeoutError', retryable: true };
  if (status === 409) return { what: 'conflict', category: 'model', type: 'ConflictError', retryable: true };
  if (status === 502 || status === 503 || status === 504) return { what: 'service unavailable', category: 'network', type: 'ServiceUnavailableError', retryable: true };
  if (status >= 500) return { what: 'server error', category: 'model', type: 'ServerError', retryable: true };
  if (status === 401 || status === 403) return { what: 'check the API key', category: 'validation', type: 'AuthenticationError', retryable: false };
  if (status === 404) return { what: 'model or endpoint not found', category: 'model', type: 'NotFoundError', retryable: false };
  return { what: 'request rejected', category: 'validation', type: 'BadRequestError', retryable: false };
}

/** What an API error code or type without a status means; unknown ones are not worth a retry. */
function kindOfCode(code: string | undefined): Kind {
  const c = (code ?? '').toLowerCase();
  if (c === 'insufficient_quota') return kindOfStatus(429, c);
  if (/rate.?limit|too.?many.?requests/.test(c)) return kindOfStatus(429, undefined);
  if (/time.?out|timed.?out/.test(c)) return { what: 'timeout', category: 'timeout', type: 'TimeoutError', retryable: true };
  if (/overload|unavailable|bad.?gateway|upstream|disconnect/.test(c)) return kindOfStatus(503, undefined);
  if (/server.?error|internal/.test(c)) return kindOfStatus(500, undefined);
  return { what: 'error', category: 'model', type: 'APIError', retryable: false };
}

/**
 * Milliseconds a server asks the client to wait: `retry-after-ms` (OpenAI's), else
 * `retry-after` as seconds or an HTTP-date. Undefined when neither says anything usable.
 */
export function retryAfterMs(headers: ResponseHeaders | null | undefined, now = Date.now()): number | undefined {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** `7s`, `1.5s`, `0.25s`. */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 3 : 0))}s`;
}

/** The `error` object of a JSON error body, when it is one. */
function errorOfBody(bodyText: string): Record<string, unknown> | undefined {
  try {
    const json = JSON.parse(bodyText) as { error?: unknown };
    return typeof json?.error === 'object' && json.error !== null ? (json.error as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Maps an HTTP failure of an AI service onto a classified {@link ConnectorError} (see
 * `kindOfStatus`). `headers`, when given, add the wait the server asks for to the message
 * (`retry-after-ms`, `retry-after` in seconds or as an HTTP-date) and `x-should-retry: true|false`
 * overrides whether to retry.
 */
export function httpError(service: string, status: number, bodyText: string, headers?: ResponseHeaders | null): ConnectorError {
  const detail = bodyText.slice(0, 500);
  const apiCode = errorOfBody(bodyText)?.code;
  const kind = kindOfStatus(status, typeof apiCode === 'string' ? apiCode : undefined);
  const should = headers?.get('x-should-retry');
  const retryable = should === 'true' ? true : should === 'false' ? false : kind.retryable;
  const wait = retryable ? retryAfterMs(headers) : undefined;
  const what = `${kind.what}${wait !== undefined ? `, retry after ${seconds(wait)}` : ''}`;
  return new ConnectorError(`${service} answered HTTP ${status} (${what})${detail ? `: ${detail}` : ''}`, {
    category: kind.category,
    code: String(status),
    type: kind.type,
    retryable,
    ...(wait !== undefined ? { retryAfterMs: wait } : {}),
  });
}

/** A status in an error object's `code`/`status` (vLLM and OpenRouter put the HTTP status there). */
function statusOf(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{3}$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 400 && n <= 599 ? n : undefined;
}

/**
 * An error an API sent inside a 200 answer — a stream chunk `{"error":{…}}` (OpenRouter, vLLM),
 * an SSE `event: error`, a JSON body with `error` — as a classified {@link ConnectorError}: the
 * message is the API's, retryable when its code or status says so (rate limit, 408/409, 5xx,
 * `server_error`, overloaded, timeout), not otherwise. `where` completes "sent an error …".
 */
export function apiError(service: string, where: string, error: unknown): ConnectorError {
  const e: Record<string, unknown> = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : { message: String(error) };
  const message = typeof e.message === 'string' && e.message.length > 0 ? e.message : JSON.stringify(error);
  const status = statusOf(e.code) ?? statusOf(e.status) ?? statusOf(e.status_code);
  const code = typeof e.code === 'string' && statusOf(e.code) === undefined ? e.code : undefined;
  const type = typeof e.type === 'string' ? e.type : undefined;
  const kind = status !== undefined ? kindOfStatus(status, code) : kindOfCode(code ?? type);
  const shown = status !== undefined ? String(status) : code;
  return new ConnectorError(`${service} sent an error ${where}: ${message.slice(0, 500)}${shown ? ` (code ${shown})` : ''}`, {
    category: kind.category,
    type: kind.type,
    retryable: kind.retryable,
    ...(shown ? { code: shown } : {}),
  });
}

/**
 * Turns what `fetch` threw into a classified error: the caller's abort passes through as is
 * (the runtime reports it as a cancellation), a deadline becomes `timeout`, the rest `network`.
 */
export function fetchError(service: string, err: unknown, callerSignal: AbortSignal, timeoutMs: number): Error {
  if (callerSignal.aborted) return err instanceof Error ? err : new Error(String(err));
  if (err instanceof ConnectorError) return err;
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') {
    return new ConnectorError(`${service} did not answer within ${timeoutMs} ms`, { category: 'timeout', type: 'TimeoutError', code: 'ETIMEDOUT', cause: err });
  }
  const code = e.cause?.code;
  const reason = e.cause?.message ?? e.message ?? String(err);
  return new ConnectorError(`${service} request failed: ${reason}`, {
    category: 'network',
    type: 'NetworkError',
    ...(code ? { code } : {}),
    cause: err,
  });
}
