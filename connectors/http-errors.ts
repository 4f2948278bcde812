import { ConnectorError } from './connector-error.js';

/**
 * Maps an HTTP failure of an AI service onto a classified {@link ConnectorError}:
 * 429 → rate_limit (retry), 502/503/504 → network (retry), other 5xx → model (retry),
 * 400/422 → validation (no retry), 401/403 → authentication (no retry), 404 → model (no retry).
 */
export function httpError(service: string, status: number, bodyText: string, retryAfter?: string | null): ConnectorError {
  const detail = bodyText.slice(0, 500);
  const code = String(status);
  const msg = (what: string) => `${service} answered HTTP ${status} (${what})${detail ? `: ${detail}` : ''}`;
  if (status === 429) {
    const wait = retryAfter ? `, retry after ${retryAfter}s` : '';
    return new ConnectorError(msg(`rate limited${wait}`), { category: 'rate_limit', code, type: 'RateLimitError' });
  }
  if (status === 502 || status === 503 || status === 504) {
    return new ConnectorError(msg('service unavailable'), { category: 'network', code, type: 'ServiceUnavailableError' });
  }
  if (status >= 500) return new ConnectorError(msg('server error'), { category: 'model', code, type: 'ServerError' });
  if (status === 401 || status === 403) {
    return new ConnectorError(msg('check the API key'), { category: 'validation', code, type: 'AuthenticationError', retryable: false });
  }
  if (status === 404) return new ConnectorError(msg('model or endpoint not found'), { category: 'model', code, type: 'NotFoundError', retryable: false });
  return new ConnectorError(msg('request rejected'), { category: 'validation', code, type: 'BadRequestError', retryable: false });
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
