// The API token: from `#token=…` in the address (then stored and removed from the address bar,
// so it does not end up in screenshots or history), else from localStorage, else asked for.

const KEY = 'jobscope.apiToken';

/** The token to use, or '' when none is known yet (the API may allow anonymous access). */
export function readToken() {
  const hash = new URLSearchParamsLike(window.location.hash.slice(1));
  const fromHash = hash.get('token');
  if (fromHash) {
    window.localStorage.setItem(KEY, fromHash);
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    return fromHash;
  }
  return window.localStorage.getItem(KEY) || '';
}

/** Asks the user for a token after a 401; returns it ('' when they cancel). */
export function askForToken(reason) {
  const value = window.prompt(`${reason}\n\nPaste the Jobscope API token (JOBSCOPE_API_TOKEN). It is kept in this browser's localStorage.`);
  if (value) window.localStorage.setItem(KEY, value.trim());
  return value ? value.trim() : '';
}

/** Forgets the stored token. */
export function forgetToken() {
  window.localStorage.removeItem(KEY);
}

// URLSearchParams over a hash fragment, via URL so no extra global is needed.
function URLSearchParamsLike(text) {
  return new URL(`http://x/?${text}`).searchParams;
}
