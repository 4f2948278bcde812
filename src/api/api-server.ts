import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { createApiApp, type ApiApp } from './api-app.js';
import type { ApiOptions } from './api-options.js';
import { ListenError } from '../errors.js';

/** Options of {@link startApiServer}. */
export type ApiServerOptions = ApiOptions & {
  /** TCP port; 0 picks a free one. Default 3000. */
  port?: number;
  /** Interface to listen on. Default `0.0.0.0`. */
  host?: string;
  /** How long `close()` waits for open requests before cutting them, ms. Default 5000. */
  shutdownTimeoutMs?: number;
};

/** A running API server. */
export interface ApiServer {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  port: number;
  /** The app it serves (its context shows connected SSE clients). */
  app: ApiApp;
  /** Stops accepting, ends SSE streams, waits for open requests up to the deadline. Idempotent. */
  close(): Promise<void>;
}

/** Starts the API on a port. Resolves once it listens. */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const app = createApiApp(options);
  const host = options.host ?? '0.0.0.0';
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5000;
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: options.port ?? 3000, hostname: host }, () => resolve(s as Server));
      s.once('error', (err: NodeJS.ErrnoException) => reject(new ListenError('the API', `${host}:${options.port ?? 3000}`, 'PORT (or --port)', err)));
    });
  } catch (err) {
    // The app's background work (the stuck detector) started with it: stop it too.
    await app.close().catch(() => undefined);
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 3000);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;

  async function shutdown(): Promise<void> {
    // End SSE streams first: with the listener closed first, Node holds their last chunks back.
    await app.close();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        server.closeAllConnections();
        resolve();
      }, shutdownTimeoutMs).unref();
    });
    await Promise.race([closed, deadline]);
    clearTimeout(timer);
  }

  return {
    url: `http://${shownHost}:${port}`,
    port,
    app,
    close: () => (closing ??= shutdown()),
  };
}
