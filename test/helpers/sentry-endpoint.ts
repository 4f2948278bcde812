import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Sentry envelope endpoint for tests: `POST /api/<project>/envelope/`, parses each
 * envelope (header line, then item header + payload pairs, honouring `length`), keeps the
 * error events, and misbehaves on demand (429 with Retry-After / X-Sentry-Rate-Limits,
 * 4xx/5xx with a body, or a reset connection).
 */

/** One parsed envelope. */
export interface ReceivedEnvelope {
  header: Record<string, unknown>;
  items: { header: { type: string; length?: number } & Record<string, unknown>; payload: unknown }[];
  /** Unix ms it arrived. */
  receivedAt: number;
}

/** A scripted misbehaviour for the next requests. */
export interface EndpointFault {
  status?: number;
  retryAfter?: string;
  rateLimits?: string;
  body?: string;
  /** Destroy the connection instead of answering. */
  reset?: boolean;
}

/** The endpoint handle. */
export interface SentryEndpoint {
  /** A DSN pointing here, project 42. */
  dsn: string;
  /** Envelopes answered 200. */
  envelopes: ReceivedEnvelope[];
  /** Payloads of the `event` items of accepted envelopes. */
  events: Record<string, unknown>[];
  /** Raw bodies of every request, accepted or not. */
  bodies: string[];
  /** Unix ms of every request, faulted ones included. */
  requestTimes: number[];
  failNext(count: number, fault: EndpointFault): void;
  close(): Promise<void>;
}

/** Parses a Sentry envelope (newline-delimited; a payload with `length` may contain newlines). */
export function parseEnvelope(body: Buffer): Omit<ReceivedEnvelope, 'receivedAt'> {
  let pos = 0;
  const readLine = () => {
    let end = body.indexOf(0x0a, pos);
    if (end === -1) end = body.length;
    const line = body.subarray(pos, end).toString('utf8');
    pos = end + 1;
    return line;
  };
  const header = JSON.parse(readLine()) as Record<string, unknown>;
  const items: ReceivedEnvelope['items'] = [];
  while (pos < body.length) {
    const line = readLine();
    if (line.trim() === '') continue;
    const itemHeader = JSON.parse(line) as ReceivedEnvelope['items'][number]['header'];
    let raw: string;
    if (typeof itemHeader.length === 'number') {
      raw = body.subarray(pos, pos + itemHeader.length).toString('utf8');
      pos += itemHeader.length + 1;
    } else {
      raw = readLine();
    }
    let payload: unknown = raw;
    try {
      payload = JSON.parse(raw);
    } catch {
      // attachments are not JSON; keep the text
    }
    items.push({ header: itemHeader, payload });
  }
  return { header, items };
}

/** Starts an endpoint on a free port of 127.0.0.1. */
export async function startSentryEndpoint(): Promise<SentryEndpoint> {
  const envelopes: ReceivedEnvelope[] = [];
  const events: Record<string, unknown>[] = [];
  const bodies: string[] = [];
  const requestTimes: number[] = [];
  const faults: EndpointFault[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    requestTimes.push(Date.now());
    bodies.push(body.toString('utf8'));
    const fault = faults.shift();
    if (fault?.reset) return void req.socket.destroy();
    if (fault?.status) {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      if (fault.rateLimits !== undefined) headers['x-sentry-rate-limits'] = fault.rateLimits;
      return void res.writeHead(fault.status, headers).end(fault.body ?? '');
    }
    if (req.method !== 'POST' || !/^\/api\/\d+\/envelope\/?(\?|$)/.test(req.url ?? '')) return void res.writeHead(404).end();
    const envelope = { ...parseEnvelope(body), receivedAt: Date.now() };
    envelopes.push(envelope);
    for (const item of envelope.items) if (item.header.type === 'event') events.push(item.payload as Record<string, unknown>);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: envelope.header.event_id }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dsn: `http://publickey@127.0.0.1:${port}/42`,
    envelopes,
    events,
    bodies,
    requestTimes,
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
