import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local OTLP/HTTP receiver for tests: accepts `POST /v1/traces` with the JSON encoding
 * (what `@opentelemetry/exporter-trace-otlp-http` sends; protobuf is answered 415), keeps every
 * span flattened, and can misbehave on demand (429/503/500, or answer too late).
 */

type AnyValue = { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

/** One received span, with attributes as a plain record and times in Unix ms. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, string | number | boolean>;
  events: { name: string; timeMs: number; attributes: Record<string, string | number | boolean> }[];
  status: { code?: number; message?: string };
  resource: Record<string, string | number | boolean>;
}

/** A scripted misbehaviour for the next requests. */
export interface ReceiverFault {
  /** HTTP status to answer, e.g. 429, 503, 500. */
  status?: number;
  /** `Retry-After` header value, in seconds. */
  retryAfterSec?: number;
  /** Wait this long before answering (past the exporter's timeout to simulate a hang). */
  delayMs?: number;
}

/** The receiver handle. */
export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>/v1/traces`. */
  tracesUrl: string;
  spans: ReceivedSpan[];
  /** Raw request bodies, for "this value appears nowhere" assertions. */
  bodies: string[];
  /** Requests received, faulted ones included. */
  requestCount(): number;
  /** Misbehave on the next `count` requests. */
  failNext(count: number, fault: ReceiverFault): void;
  close(): Promise<void>;
}

function attrs(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}

const nanosToMs = (n: string | number) => Number(BigInt(n) / 1_000_000n);

function flatten(body: string): ReceivedSpan[] {
  const doc = JSON.parse(body) as {
    resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  const out: ReceivedSpan[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const events = (s.events as { name: string; timeUnixNano: string; attributes?: KeyValue[] }[] | undefined) ?? [];
        out.push({
          traceId: s.traceId as string,
          spanId: s.spanId as string,
          parentSpanId: (s.parentSpanId as string | undefined) || undefined,
          name: s.name as string,
          kind: s.kind as number,
          startMs: nanosToMs(s.startTimeUnixNano as string),
          endMs: nanosToMs(s.endTimeUnixNano as string),
          attributes: attrs(s.attributes as KeyValue[] | undefined),
          events: events.map((e) => ({ name: e.name, timeMs: nanosToMs(e.timeUnixNano), attributes: attrs(e.attributes) })),
          status: (s.status as { code?: number; message?: string } | undefined) ?? {},
          resource,
        });
      }
    }
  }
  return out;
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const bodies: string[] = [];
  const faults: ReceiverFault[] = [];
  let requests = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    requests++;
    const fault = faults.shift();
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (res.destroyed) return;
    if (fault?.status) {
      const headers: Record<string, string> = fault.retryAfterSec !== undefined ? { 'retry-after': String(fault.retryAfterSec) } : {};
      res.writeHead(fault.status, headers).end();
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end();
    if (!String(req.headers['content-type']).includes('json')) return void res.writeHead(415).end();
    const body = Buffer.concat(chunks).toString('utf8');
    bodies.push(body);
    spans.push(...flatten(body));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tracesUrl: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    bodies,
    requestCount: () => requests,
    failNext(count, fault) {
      for (let i = 0; i < count; i++) faults.push(fault);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
