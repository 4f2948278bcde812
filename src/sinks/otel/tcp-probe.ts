import { connect } from 'node:net';

/**
 * Opens (and closes) a TCP connection to the host and port of `url`: the cheapest check that
 * an HTTP backend is reachable without sending it data. Resolves with an error message, or
 * `undefined` when the connection succeeded.
 */
export function probeTcp(url: string, timeoutMs: number): Promise<string | undefined> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (error?: string) => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    socket.once('connect', () => done());
    socket.once('error', (err) => done(`${host}:${port} unreachable: ${err.message}`));
  });
}
