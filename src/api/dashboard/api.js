import { askForToken, readToken } from './token.js';

// The dashboard's client of the Jobscope API: adds the token, turns error answers into
// Errors with the API's own message, and asks for a token once on a 401.

let token = readToken();
let asked = false;

/** The current token ('' for anonymous). */
export function currentToken() {
  return token;
}

/** GET a JSON route; `query` values that are empty are left out. */
export async function apiGet(path, query = {}) {
  return request('GET', withQuery(path, query));
}

/** POST JSON to a route. */
export async function apiPost(path, body) {
  return request('POST', path, body);
}

/** `path` with the non-empty `query` values. */
export function withQuery(path, query) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  return url.pathname + url.search;
}

async function request(method, path, body) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && !asked) {
    asked = true;
    const next = askForToken('The API asked for a token.');
    if (next) {
      token = next;
      window.location.reload();
    }
  }
  const payload = await res.json().catch(() => undefined);
  if (!res.ok) {
    const message = payload && payload.error ? payload.error.message : `HTTP ${res.status}`;
    throw new Error(`${message} (${res.status})`);
  }
  return payload;
}
