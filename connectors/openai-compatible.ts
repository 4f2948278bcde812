import type { Connector, ConnectorContext, ConnectorJob, ConnectorResult, UsageReport } from './connector.js';
import { ConnectorError } from './connector-error.js';
import { apiError, fetchError, httpError } from './http-errors.js';
import { readSseEvents } from './sse-reader.js';

/**
 * A connector for any OpenAI-compatible chat completions API (OpenAI, vLLM, Ollama, LiteLLM,
 * Together, OpenRouter, …). Streams by default (`stream_options.include_usage` so the last chunk
 * carries the token counts) and records the model asked for, input/output/cached/reasoning tokens (the last
 * usage block of the answer: some servers send running totals on every chunk) and, when
 * streaming, the time to the first token (content, reasoning or tool call). HTTP failures are
 * classified (see `http-errors.ts`), and so is an error inside a 200 answer (a chunk with
 * `error`, an SSE `event: error`, a JSON body with `error`); a stream that ends with neither a
 * `finish_reason` nor `[DONE]` was cut and fails as a retryable network error. `timeoutMs` bounds
 * the wait for the response headers and each silence while the body arrives, not the whole
 * generation. `ctx.signal` aborts the call.
 *
 * The output is the answer's content, model and finish reason, and its tool calls when there are
 * any (streamed ones put together from their pieces).
 *
 * Job data: `{ messages: [{ role, content }], model?, stream?, max_tokens?, max_completion_tokens?,
 * temperature?, params? }`, or `{ prompt }` for a single user message. `params` holds any other
 * Chat Completions parameter (`tools`, `response_format`, `stop`, `seed`, `reasoning_effort`, …),
 * sent as it is; `model`, `messages`, `stream` and `stream_options` stay the connector's.
 */

/** Options of {@link createOpenAiCompatibleConnector}. */
export interface OpenAiCompatibleConnectorOptions {
  /** The API base, up to and including `/v1`, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** Model used when the job names none. Default `gpt-4o-mini`. */
  model?: string;
  /** Stream unless the job says otherwise. Default true. */
  stream?: boolean;
  /**
   * Longest wait for the response headers, then for each piece of the body (a silence of this
   * long fails the attempt as a `timeout`), in ms; a long stream that keeps sending is not cut.
   * Default 120000 (`OPENAI_TIMEOUT_MS`).
   */
  timeoutMs?: number;
  /** `gen_ai.provider.name` on events. Default `openai`. */
  provider?: string;
  /** Service type on events. Default `openai`. */
  serviceType?: string;
  /** Shortest interval between progress reports while streaming, in ms. Default 500. */
  progressIntervalMs?: number;
}

/** A chat message. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** The job data this connector reads. */
export interface ChatJobData {
  messages?: ChatMessage[];
  prompt?: string;
  model?: string;
  stream?: boolean;
  max_tokens?: number;
  /** What newer OpenAI models (o-series, gpt-5) take instead of `max_tokens`. */
  max_completion_tokens?: number;
  temperature?: number;
  /** Any other Chat Completions parameters, sent as they are. */
  params?: Record<string, unknown>;
}

interface OpenAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
}

/** The answer a chat job resolves with. */
export interface ChatOutput {
  content: string;
  model: string;
  finishReason: string | null;
  /** The tool calls of the answer (when the job passed `tools`), their arguments as the JSON text the model wrote. */
  toolCalls?: ToolCall[];
}

/** One tool call of an answer, as the API gives it. */
export interface ToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/** Most tool calls kept from one answer. */
const MAX_TOOL_CALLS = 128;

/** Tool calls from a JSON answer's message (anything malformed is left out). */
function toolCallsOf(raw: unknown): ToolCall[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const calls: ToolCall[] = [];
  for (const c of raw.slice(0, MAX_TOOL_CALLS) as { id?: unknown; type?: unknown; function?: { name?: unknown; arguments?: unknown } }[]) {
    if (c === null || typeof c !== 'object') continue;
    calls.push({ id: typeof c.id === 'string' ? c.id : '', type: typeof c.type === 'string' ? c.type : 'function', function: { name: String(c.function?.name ?? ''), arguments: String(c.function?.arguments ?? '') } });
  }
  return calls.length > 0 ? calls : undefined;
}

/**
 * Tool calls streamed in pieces: the first delta of a call (by `index`) has its id, type and
 * name, the later ones add to its arguments.
 */
class StreamedToolCalls {
  private readonly calls: ToolCall[] = [];

  add(raw: unknown): void {
    if (!Array.isArray(raw)) return;
    for (const d of raw as { index?: unknown; id?: unknown; type?: unknown; function?: { name?: unknown; arguments?: unknown } }[]) {
      if (d === null || typeof d !== 'object') continue;
      const i = typeof d.index === 'number' && Number.isInteger(d.index) && d.index >= 0 && d.index < MAX_TOOL_CALLS ? d.index : this.calls.length;
      if (i >= MAX_TOOL_CALLS) continue;
      const call = (this.calls[i] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (typeof d.id === 'string') call.id = d.id;
      if (typeof d.type === 'string') call.type = d.type;
      if (typeof d.function?.name === 'string') call.function.name += d.function.name;
      if (typeof d.function?.arguments === 'string') call.function.arguments += d.function.arguments;
    }
  }

  get(): ToolCall[] | undefined {
    const calls = this.calls.filter((c) => c !== undefined);
    return calls.length > 0 ? calls : undefined;
  }
}

/** Maps OpenAI's usage block onto a usage report. */
export function usageFromOpenAi(u: OpenAiUsage | undefined): UsageReport {
  if (!u) return {};
  const r: UsageReport = {};
  if (typeof u.prompt_tokens === 'number') r.inputTokens = u.prompt_tokens;
  if (typeof u.completion_tokens === 'number') r.outputTokens = u.completion_tokens;
  const cached = u.prompt_tokens_details?.cached_tokens;
  if (typeof cached === 'number') r.cachedTokens = cached;
  const reasoning = u.completion_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number') r.reasoningTokens = reasoning;
  return r;
}

function messagesOf(data: ChatJobData): ChatMessage[] {
  if (Array.isArray(data.messages) && data.messages.length > 0) return data.messages;
  if (typeof data.prompt === 'string' && data.prompt.length > 0) return [{ role: 'user', content: data.prompt }];
  throw new ConnectorError('chat job has neither "messages" nor "prompt"', { category: 'validation', type: 'ValidationError', retryable: false });
}


/** What the answer said about itself so far: reported once, when the attempt ends, however it ends. */
interface AnswerFacts {
  model?: string;
  /** The last usage block, field by field (servers that send running totals on every chunk count once). */
  usage?: UsageReport;
}

/** Creates the OpenAI-compatible connector. */
export function createOpenAiCompatibleConnector(options: OpenAiCompatibleConnectorOptions): Connector<ChatJobData> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const provider = options.provider ?? 'openai';
  const service = `chat completions at ${options.baseUrl}`;

  async function run(job: ConnectorJob<ChatJobData>, ctx: ConnectorContext): Promise<ConnectorResult> {
    const data = job.data ?? {};
    const model = data.model ?? options.model ?? 'gpt-4o-mini';
    const stream = data.stream ?? options.stream ?? true;
    const params = data.params !== null && typeof data.params === 'object' && !Array.isArray(data.params) ? data.params : {};
    const body: Record<string, unknown> = { ...params, model, messages: messagesOf(data), stream };
    if (stream) body.stream_options = { include_usage: true };
    else delete body.stream_options;
    if (data.max_tokens !== undefined) body.max_tokens = data.max_tokens;
    if (data.max_completion_tokens !== undefined) body.max_completion_tokens = data.max_completion_tokens;
    if (data.temperature !== undefined) body.temperature = data.temperature;
    const maxTokens = data.max_completion_tokens ?? data.max_tokens;
    ctx.reportUsage({ model, provider });
    ctx.progress(0, { stage: 'requesting' });
    const started = performance.now();
    const deadline = new IdleDeadline(timeoutMs);
    const signal = AbortSignal.any([ctx.signal, deadline.signal]);
    const facts: AnswerFacts = {};
    try {
      const res = await fetch(url, { method: 'POST', headers: headers(ctx.traceparent), body: JSON.stringify(body), signal });
      deadline.headersArrived();
      if (!res.ok) throw httpError(service, res.status, await res.text().catch(() => ''), res.headers);
      // A server that cannot stream (or fails before it starts) may answer a stream request with JSON.
      const sse = stream && !/^application\/json\b/i.test(res.headers.get('content-type') ?? '');
      const out = sse ? await readStream(res, ctx, started, maxTokens, facts, deadline) : await readJson(res, facts, deadline);
      ctx.progress(100, { stage: 'done' });
      return { output: out, outputCount: 1, outputSize: Buffer.byteLength(out.content) };
    } catch (err) {
      if (deadline.fired && !ctx.signal.aborted && !(err instanceof ConnectorError)) throw deadline.error(service, err);
      throw fetchError(service, err, ctx.signal, timeoutMs);
    } finally {
      deadline.clear();
      // The usage's model stays the one asked for (gen_ai.request.model, the metrics' label) when
      // the answer names a version of it (`gpt-4o` answered as `gpt-4o-2024-08-06`): else a model's
      // completed and failed attempts would carry two labels. An answer naming another model (the
      // name asked for was an alias: LiteLLM, vLLM, `openrouter/auto`) gives the model, which the
      // price table knows where the alias is not. The answer's model is in the output either way.
      const answered = facts.model !== undefined && !facts.model.toLowerCase().startsWith(model.toLowerCase().slice(model.lastIndexOf('/') + 1)) ? { model: facts.model } : {};
      if (facts.usage || answered.model) ctx.reportUsage({ ...facts.usage, ...answered });
    }
  }

  function headers(traceparent: string): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', traceparent };
    if (options.apiKey) h.authorization = `Bearer ${options.apiKey}`;
    return h;
  }

  async function readJson(res: Response, facts: AnswerFacts, deadline: IdleDeadline): Promise<ChatOutput> {
    let text = '';
    if (res.body) {
      const decoder = new TextDecoder();
      for await (const chunk of touching(res.body, deadline)) text += decoder.decode(chunk, { stream: true });
      text += decoder.decode();
    }
    const json = parseJson(text) as JsonAnswer | undefined;
    if (typeof json !== 'object' || json === null) throw new ConnectorError(`${service} answered with something that is not JSON: ${text.slice(0, 200)}`, { category: 'model', type: 'ResponseError' });
    const error = errorOf(json);
    if (error !== undefined) throw apiError(service, 'in its answer', error);
    if (typeof json.model === 'string' && json.model.length > 0) facts.model = json.model;
    if (json.usage) facts.usage = usageFromOpenAi(json.usage);
    const choice = json.choices?.[0];
    // No time to first token: without streaming it would be the whole request.
    const toolCalls = toolCallsOf(choice?.message?.tool_calls);
    return { content: choice?.message?.content ?? '', model: facts.model ?? 'unknown', finishReason: choice?.finish_reason ?? null, ...(toolCalls ? { toolCalls } : {}) };
  }

  async function readStream(res: Response, ctx: ConnectorContext, started: number, maxTokens: number | undefined, facts: AnswerFacts, deadline: IdleDeadline): Promise<ChatOutput> {
    if (!res.body) throw new ConnectorError(`${service} sent no body`, { category: 'network', type: 'StreamError' });
    let content = '';
    const tools = new StreamedToolCalls();
    let finishReason: string | null = null;
    let sawDone = false;
    // A chunk that is not JSON: a protocol error, unless it is the last thing before the body
    // ends, which is a stream cut in the middle of a line.
    let notJson: string | undefined;
    let deltas = 0;
    let lastProgress = 0;
    const interval = options.progressIntervalMs ?? 500;
    for await (const event of readSseEvents(touching(res.body, deadline))) {
      if (notJson !== undefined) throw new ConnectorError(`stream chunk is not JSON: ${notJson.slice(0, 200)}`, { category: 'model', type: 'StreamError' });
      if (event.event === 'error') throw apiError(service, 'in the stream (event: error)', errorOfEventData(event.data));
      if (event.event !== 'message') continue;
      if (event.data.trim() === '[DONE]') {
        sawDone = true;
        break;
      }
      const chunk = parseJson(event.data) as StreamChunk | undefined;
      if (typeof chunk !== 'object' || chunk === null) {
        notJson = event.data;
        continue;
      }
      const error = errorOf(chunk);
      if (error !== undefined) throw apiError(service, 'in the stream', error);
      if (typeof chunk.model === 'string' && chunk.model.length > 0) facts.model = chunk.model;
      if (chunk.usage) facts.usage = { ...facts.usage, ...usageFromOpenAi(chunk.usage) };
      const choice = chunk.choices?.[0];
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      const delta = choice?.delta;
      if (typeof delta?.content === 'string') content += delta.content;
      tools.add(delta?.tool_calls);
      if (!isOutput(delta)) continue;
      if (deltas++ === 0) ctx.reportUsage({ timeToFirstTokenMs: performance.now() - started });
      const now = performance.now();
      if (now - lastProgress >= interval) {
        lastProgress = now;
        const pct = maxTokens ? Math.min(99, (deltas / maxTokens) * 100) : Math.min(95, 10 + deltas);
        ctx.progress(pct, { step: deltas, stage: 'streaming' });
      }
    }
    if (notJson !== undefined || (!sawDone && finishReason === null)) {
      throw new ConnectorError(`${service} ended the stream before the answer was complete (no finish_reason and no [DONE])`, { category: 'network', type: 'StreamError' });
    }
    if (finishReason === 'error') throw new ConnectorError(`${service} ended the answer with finish_reason "error"`, { category: 'model', type: 'StreamError' });
    const toolCalls = tools.get();
    return { content, model: facts.model ?? 'unknown', finishReason, ...(toolCalls ? { toolCalls } : {}) };
  }

  return { serviceType: options.serviceType ?? 'openai', name: 'openai-compatible', run };
}

/**
 * Aborts its signal when `ms` pass without {@link IdleDeadline.touch}: first the wait for the
 * response headers, then each silence while the body arrives.
 */
class IdleDeadline {
  readonly signal: AbortSignal;
  fired = false;
  private readonly controller = new AbortController();
  private readonly ms: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private phase: 'headers' | 'body' = 'headers';

  constructor(ms: number) {
    this.ms = ms;
    this.signal = this.controller.signal;
    this.touch();
  }

  touch(): void {
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new DOMException(`nothing received for ${this.ms} ms`, 'TimeoutError'));
    }, this.ms);
  }

  headersArrived(): void {
    this.phase = 'body';
    this.touch();
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  error(service: string, cause: unknown): ConnectorError {
    const what = this.phase === 'headers' ? `sent no response headers within ${this.ms} ms` : `sent nothing for ${this.ms} ms while answering`;
    return new ConnectorError(`${service} ${what}`, { category: 'timeout', type: 'TimeoutError', code: 'ETIMEDOUT', cause });
  }
}

/** The body's chunks, each one restarting the deadline. */
async function* touching(body: ReadableStream<Uint8Array>, deadline: IdleDeadline): AsyncGenerator<Uint8Array> {
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    deadline.touch();
    yield chunk;
  }
}

interface StreamDelta {
  content?: string | null;
  /** vLLM, DeepSeek. */
  reasoning_content?: string | null;
  /** OpenRouter, Ollama. */
  reasoning?: string | null;
  refusal?: string | null;
  tool_calls?: unknown[] | null;
  function_call?: unknown;
}

interface StreamChunk {
  model?: string;
  usage?: OpenAiUsage | null;
  error?: unknown;
  object?: string;
  choices?: { delta?: StreamDelta; finish_reason?: string | null }[];
}

interface JsonAnswer {
  model?: string;
  usage?: OpenAiUsage | null;
  error?: unknown;
  object?: string;
  choices?: { message?: { content?: string | null; tool_calls?: unknown }; finish_reason?: string | null }[];
}

/** True when a delta carries output: text, reasoning, a refusal or a tool call (the first one is the first token). */
function isOutput(d: StreamDelta | undefined): boolean {
  if (!d) return false;
  const text = (v: unknown) => typeof v === 'string' && v.length > 0;
  return text(d.content) || text(d.reasoning_content) || text(d.reasoning) || text(d.refusal) || (Array.isArray(d.tool_calls) && d.tool_calls.length > 0) || (d.function_call !== undefined && d.function_call !== null);
}

/** The error a chunk or answer carries: its `error` (OpenAI, OpenRouter, vLLM), or itself when it is an old vLLM `{"object":"error"}`. */
function errorOf(json: { error?: unknown; object?: string }): unknown {
  if (json.error) return json.error;
  return json.object === 'error' ? json : undefined;
}

/** The error of an `event: error`: its JSON's `error`, the JSON itself, or the text. */
function errorOfEventData(data: string): unknown {
  const json = parseJson(data);
  if (typeof json !== 'object' || json === null) return { message: data || 'no details' };
  return errorOf(json as { error?: unknown; object?: string }) ?? json;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
