import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ListenError } from '../errors.js';

/**
 * The pipeline process's HTTP endpoints on node:http: `/metrics` (Prometheus text from the
 * registry) and `/healthz` (200 while `healthy()` says so, 503 otherwise, with a JSON body).
 */

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  registry: Registry;
  /** Port; 0 picks a free one. */
  port: number;
  /** Interface to listen on. Default `0.0.0.0`. */
  host?: string;
  /** The health answer: `ok` and any detail to show. */
  health: () => { ok: boolean; [key: string]: unknown };
  /** What is starting, for a listen error. Default `the metrics server`. */
  what?: string;
  /** The setting that picks another port, for a listen error. Default `METRICS_PORT (0 turns it off)`. */
  portSetting?: string;
}

/** A running metrics server. */
export interface MetricsServer {
  readonly port: number;
  /** Stops listening. Idempotent. */
  close(): Promise<void>;
}

/** Starts the server; resolves once it listens. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}`),
      );
    } else if (path === '/healthz') {
      const h = options.health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(h));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ListenError(options.what ?? 'the metrics server', `${options.host ?? '0.0.0.0'}:${options.port}`, options.portSetting ?? 'METRICS_PORT (0 turns it off)', err)),
    );
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
