import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local server speaking OpenAI's `/v1/chat/completions`, streaming (SSE, with
 * `stream_options.include_usage`) and not, with usage blocks. Behaviour per request comes from
 * the last user message: `fail:429` → 429 with Retry-After, `fail:503`/`fail:500` → that status,
 * `slow:<ms>` → waits before the first token (and honors client disconnects).
 */

/** A request the server received. */
export interface RecordedRequest {
  headers: IncomingMessage['headers'];
  body: { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean }; messages?: { role: string; content: string }[] };
}

/** A running fake OpenAI server. */
export interface OpenAiServer {
  /** API base including `/v1`. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Requests whose client went away before the answer finished. */
  aborted: number;
  close(): Promise<void>;
}

const ANSWER = ['Hello', ',', ' world', '!'];
const USAGE = { prompt_tokens: 42, completion_tokens: 4, total_tokens: 46, prompt_tokens_details: { cached_tokens: 10 }, completion_tokens_details: { reasoning_tokens: 2 } };

/** Starts the server on a free port. */
export async function startOpenAiServer(): Promise<OpenAiServer> {
  const state = { requests: [] as RecordedRequest[], aborted: 0 };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => void handle(req, res, raw, state));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return state.requests;
    },
    get aborted() {
      return state.aborted;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, raw: string, state: { requests: RecordedRequest[]; aborted: number }): Promise<void> {
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    res.writeHead(404).end(JSON.stringify({ error: { message: 'not found' } }));
    return;
  }
  const body = JSON.parse(raw) as RecordedRequest['body'];
  state.requests.push({ headers: req.headers, body });
  const prompt = body.messages?.at(-1)?.content ?? '';
  const fail = /fail:(\d{3})/.exec(prompt);
  if (fail) {
    const status = Number(fail[1]);
    res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '7' } : {}) });
    res.end(JSON.stringify({ error: { message: status === 429 ? 'Rate limit reached for requests' : 'upstream overloaded', type: 'server_error' } }));
    return;
  }
  const slow = /slow:(\d+)/.exec(prompt);
  let gone = false;
  res.on('close', () => {
    if (!res.writableFinished) {
      gone = true;
      state.aborted++;
    }
  });
  if (slow) await new Promise((r) => setTimeout(r, Number(slow[1])));
  if (gone) return;
  const model = `${body.model ?? 'gpt-4o-mini'}-2024-07-18`;
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: ANSWER.join('') }, finish_reason: 'stop' }], usage: USAGE }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
  send({ id: 'c', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: null });
  for (const piece of ANSWER) {
    send({ id: 'c', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }], usage: null });
    await new Promise((r) => setTimeout(r, 5));
  }
  send({ id: 'c', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null });
  if (body.stream_options?.include_usage) send({ id: 'c', object: 'chat.completion.chunk', model, choices: [], usage: USAGE });
  res.end('data: [DONE]\n\n');
}
