import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookSink } from '../../../../examples/custom-sink/webhook-sink.js';
import { makeEvent } from '../../../helpers/events.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function webhook(handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

const signal = () => new AbortController().signal;

describe('example webhook sink', () => {
  it('POSTs the batch as NDJSON and confirms on 2xx', async () => {
    const received: { type: string | undefined; lines: string[] }[] = [];
    const url = await webhook((req, body, res) => {
      received.push({ type: req.headers['content-type'], lines: body.trim().split('\n') });
      res.writeHead(204).end();
    });
    const events = [makeEvent({ type: 'job.started', data: {} }), makeEvent({ type: 'job.completed', data: { durationMs: 5 } })];
    const sink = createWebhookSink({ url, headers: { authorization: 'Bearer t' } });
    expect(await sink.write(events, signal())).toEqual({ status: 'ok' });
    expect(received).toHaveLength(1);
    expect(received[0]!.type).toBe('application/x-ndjson');
    expect(received[0]!.lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(events.map((e) => e.id));
    expect((await sink.health()).ok).toBe(true);
  });

  it('asks for a retry on 503 with Retry-After, and rejects on 400', async () => {
    let status = 503;
    const url = await webhook((_req, _body, res) => res.writeHead(status, { 'retry-after': '7' }).end('busy'));
    const sink = createWebhookSink({ url });
    const e = makeEvent({ type: 'log' });
    expect(await sink.write([e], signal())).toEqual({ status: 'retry', reason: 'webhook answered 503 busy', retryAfterMs: 7000 });
    status = 400;
    expect(await sink.write([e], signal())).toEqual({
      status: 'ok',
      rejected: [{ eventId: e.id, reason: 'webhook refused the batch: 400 busy' }],
    });
  });

  it('throws (= retry) when the webhook is unreachable', async () => {
    const url = await webhook((_req, _body, res) => res.end());
    await closers.pop()!();
    const sink = createWebhookSink({ url, timeoutMs: 1000 });
    await expect(sink.write([makeEvent({ type: 'log' })], signal())).rejects.toThrow();
    expect((await sink.health()).ok).toBe(false);
  });
});
