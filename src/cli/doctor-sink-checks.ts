import { connect } from 'node:net';
import type { CheckResult } from './doctor-checks.js';

/**
 * The sink reachability checks of `jobscope doctor`: can this machine reach Fluentd, the OTLP
 * endpoint and Sentry? A reachable backend may still refuse data; that shows as lag and dead
 * letters in the stream checks.
 */

/** Options of {@link checkSinks}. */
export interface SinkTargets {
  fluentd?: { host: string; port: number };
  otlpEndpoint?: string;
  sentryDsn?: string;
  /** Per-probe timeout in ms. Default 3000. */
  timeoutMs?: number;
}

/** Probes every configured sink backend; an unconfigured one is reported as skipped (pass). */
export async function checkSinks(targets: SinkTargets): Promise<CheckResult[]> {
  const timeoutMs = targets.timeoutMs ?? 3000;
  const out: Promise<CheckResult>[] = [];
  if (targets.fluentd) out.push(checkTcp('fluentd', targets.fluentd.host, targets.fluentd.port, timeoutMs));
  else out.push(Promise.resolve({ status: 'pass', name: 'fluentd', detail: 'not configured (FLUENTD_HOST unset): log forwarding is off' }));
  if (targets.otlpEndpoint) out.push(checkHttp('otlp', targets.otlpEndpoint, timeoutMs));
  else out.push(Promise.resolve({ status: 'pass', name: 'otlp', detail: 'not configured (OTEL_EXPORTER_OTLP_ENDPOINT unset): traces are off' }));
  if (targets.sentryDsn) out.push(checkHttp('sentry', sentryOrigin(targets.sentryDsn), timeoutMs));
  else out.push(Promise.resolve({ status: 'pass', name: 'sentry', detail: 'not configured (SENTRY_DSN unset): error reporting is off' }));
  return Promise.all(out);
}

/** TCP connect to host:port within the timeout. */
export function checkTcp(name: string, host: string, port: number, timeoutMs: number): Promise<CheckResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: CheckResult): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () =>
      done({ status: 'fail', name, detail: `${host}:${port} did not accept a connection within ${timeoutMs} ms: check the host, port and firewall.` }),
    );
    socket.once('connect', () => done({ status: 'pass', name, detail: `${host}:${port} accepts connections` }));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done({ status: 'fail', name, detail: `cannot connect to ${host}:${port} (${err.code ?? err.message}): start it or fix the host/port settings.` }),
    );
  });
}

/** Any HTTP answer counts as reachable (a collector answers a bare GET with 404/405). */
export async function checkHttp(name: string, url: string, timeoutMs: number): Promise<CheckResult> {
  try {
    const res = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return { status: 'pass', name, detail: `${url} answers (HTTP ${res.status})` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { status: 'fail', name, detail: `cannot reach ${url} (${why}): check the endpoint setting and the network.` };
  }
}

/** `https://key@o1.ingest.sentry.io/42` → `https://o1.ingest.sentry.io/`. */
export function sentryOrigin(dsn: string): string {
  const u = new URL(dsn);
  return `${u.protocol}//${u.host}/`;
}
