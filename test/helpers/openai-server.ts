import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Model names the peer answers for an alias asked for. */
const MODEL_ALIASES: Record<string, string> = { smart: 'gpt-4o' };

/**
 * A local server speaking OpenAI's `/v1/chat/completions`, streaming (SSE, with
 * `stream_options.include_usage`) and not, with usage blocks. Behaviour per request comes from
 * directives in the last user message, separated by spaces:
 * - `fail:<status>` → that status with an OpenAI error body; 429 carries `retry-after: 7` unless
 *   `retry-after:<seconds>`, `retry-after:date:<seconds from now>` (an HTTP-date) or
 *   `retry-after-ms:<ms>` says otherwise; `code:<code>` sets the body's `error.code`
 *   (e.g. `insufficient_quota`)
 * - `slow:<ms>` → waits before the response headers (and honors client disconnects)
 * - `gap:<ms>` → the pause between streamed chunks (default 5); `stall:<ms>` → one silence of
 *   that long after the first piece of content
 * - `usage:running` → every chunk carries the running usage totals (vLLM's
 *   `continuous_usage_stats`, Gemini), the last one the same totals as usual
 * - `reasoning:<field>[:<ms>]` → two reasoning deltas in `delta.<field>` (`reasoning_content`:
 *   vLLM, DeepSeek; `reasoning`: OpenRouter, Ollama), then a pause of `<ms>`, then the content
 * - `tools[:<ms>]` → answers with a tool call (deltas of `tool_calls`, no content), after `<ms>`
 * - `stream-error:<code>` → after two pieces a chunk `{"error":{…}}` with `finish_reason: "error"`
 *   (OpenRouter), then `[DONE]` (as vLLM does); a 3-digit code is sent as a number
 * - `event-error:<code>` → after two pieces an SSE `event: error` and the end of the body
 * - `body-error:<code>` → a 200 JSON body `{"error":{…}}`, streaming asked or not
 * - `cut` → after two pieces the body ends (no `finish_reason`, no `[DONE]`); `cut:mid` → it ends
 *   in the middle of a chunk's line
 * - `eol:cr` / `eol:crlf` → SSE lines end in a bare CR / CRLF instead of LF
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

/** The value of directive `name` in `prompt` (`''` when it has none), or undefined when absent. */
function directive(prompt: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${name}(?::(\\S+))?(?=\\s|$)`).exec(prompt);
  return m ? (m[1] ?? '') : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function errorBody(message: string, code: string | undefined): { error: Record<string, unknown> } {
  const c = code === undefined ? null : /^\d{3}$/.test(code) ? Number(code) : code;
  return { error: { message, type: typeof c === 'number' && c < 500 ? 'invalid_request_error' : 'server_error', param: null, code: c } };
}

async function handle(req: IncomingMessage, res: ServerResponse, raw: string, state: { requests: RecordedRequest[]; aborted: number }): Promise<void> {
  if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
    res.writeHead(404).end(JSON.stringify({ error: { message: 'not found' } }));
    return;
  }
  const body = JSON.parse(raw) as RecordedRequest['body'];
  state.requests.push({ headers: req.headers, body });
  const prompt = body.messages?.at(-1)?.content ?? '';
  const opt = (name: string) => directive(prompt, name);
  const fail = opt('fail');
  if (fail) {
    const status = Number(fail);
    const code = opt('code');
    const h: Record<string, string> = { 'content-type': 'application/json' };
    const after = opt('retry-after');
    const afterMs = opt('retry-after-ms');
    if (afterMs !== undefined) h['retry-after-ms'] = afterMs;
    else if (after?.startsWith('date:')) h['retry-after'] = new Date(Date.now() + Number(after.slice(5)) * 1000).toUTCString();
    else if (after !== undefined) h['retry-after'] = after;
    else if (status === 429) h['retry-after'] = '7';
    res.writeHead(status, h);
    const message = code === 'insufficient_quota' ? 'You exceeded your current quota, please check your plan and billing details.' : status === 429 ? 'Rate limit reached for requests' : 'upstream overloaded';
    res.end(JSON.stringify({ error: { message, type: code ?? 'server_error', param: null, code: code ?? null } }));
    return;
  }
  const slow = opt('slow');
  let gone = false;
  res.on('close', () => {
    if (!res.writableFinished) {
      gone = true;
      state.aborted++;
    }
  });
  if (slow) await sleep(Number(slow));
  if (gone) return;
  // As a proxy answers (LiteLLM, OpenRouter): an alias asked for, the model behind it named.
  const model = `${(body.model !== undefined ? MODEL_ALIASES[body.model] : undefined) ?? body.model ?? 'gpt-4o-mini'}-2024-07-18`;
  const bodyError = opt('body-error');
  if (bodyError !== undefined) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(errorBody('The server had an error while processing your request', bodyError || undefined)));
    return;
  }
  const tools = opt('tools');
  if (!body.stream) {
    if (tools !== undefined) await sleep(Number(tools || 0));
    const message = tools !== undefined ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] } : { role: 'assistant', content: ANSWER.join('') };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model, choices: [{ index: 0, message, finish_reason: tools !== undefined ? 'tool_calls' : 'stop' }], usage: USAGE }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const eol = opt('eol') === 'cr' ? '\r' : opt('eol') === 'crlf' ? '\r\n' : '\n';
  const running = opt('usage') === 'running';
  let sent = 0;
  // Running totals as vLLM's continuous_usage_stats sends them: the prompt, and the completion so far.
  const usageNow = () => (running ? { prompt_tokens: USAGE.prompt_tokens, completion_tokens: sent, total_tokens: USAGE.prompt_tokens + sent } : null);
  const send = (obj: unknown, event?: string) => res.write(`${event ? `event: ${event}${eol}` : ''}data: ${JSON.stringify(obj)}${eol}${eol}`);
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => send({ id: 'c', object: 'chat.completion.chunk', model, choices: [{ index: 0, delta, finish_reason: finish }], usage: usageNow() });
  const gap = Number(opt('gap') ?? 5);
  chunk({ role: 'assistant', content: '' });
  const reasoning = opt('reasoning');
  if (reasoning) {
    const [field, pause] = reasoning.split(':');
    for (const piece of ['Let me think', ' about it.']) {
      sent++;
      chunk({ [field!]: piece });
      await sleep(gap);
    }
    await sleep(Number(pause ?? 0));
  }
  if (tools !== undefined) {
    await sleep(Number(tools || 0));
    chunk({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] });
    sent++;
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] });
    chunk({}, 'tool_calls');
  } else {
    const stall = opt('stall');
    const streamError = opt('stream-error');
    const eventError = opt('event-error');
    const cut = opt('cut');
    for (const [i, piece] of ANSWER.entries()) {
      if (i === 2 && streamError !== undefined) {
        const e = errorBody('Provider disconnected unexpectedly', streamError || undefined);
        send({ id: 'c', object: 'chat.completion.chunk', model, ...e, choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }] });
        res.end(`data: [DONE]${eol}${eol}`);
        return;
      }
      if (i === 2 && eventError !== undefined) {
        send(errorBody('Model overloaded, try again later', eventError || undefined), 'error');
        res.end();
        return;
      }
      if (i === 2 && cut !== undefined) {
        res.end(cut === 'mid' ? `data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"wor` : undefined);
        return;
      }
      sent++;
      chunk({ content: piece });
      await sleep(i === 0 && stall ? Number(stall) : gap);
      if (gone) return;
    }
    chunk({}, 'stop');
  }
  if (body.stream_options?.include_usage) send({ id: 'c', object: 'chat.completion.chunk', model, choices: [], usage: running ? { ...USAGE, completion_tokens: sent, total_tokens: USAGE.prompt_tokens + sent } : USAGE });
  res.end(`data: [DONE]${eol}${eol}`);
}
