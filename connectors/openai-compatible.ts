import type { Connector, ConnectorContext, ConnectorJob, ConnectorResult, UsageReport } from './connector.js';
import { ConnectorError } from './connector-error.js';
import { fetchError, httpError } from './http-errors.js';
import { readSseData } from './sse-reader.js';

/**
 * A connector for any OpenAI-compatible chat completions API (OpenAI, vLLM, Ollama, LiteLLM,
 * Together, …). Streams by default (`stream_options.include_usage` so the last chunk carries the
 * token counts) and records the model, input/output/cached/reasoning tokens and the time to the
 * first token. HTTP failures are classified (see `http-errors.ts`); `ctx.signal` aborts the call.
 *
 * Job data: `{ messages: [{ role, content }], model?, stream?, max_tokens?, temperature? }`, or
 * `{ prompt }` for a single user message.
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
  /** Deadline of one request, in ms. Default 120000. */
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
  temperature?: number;
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
    const body: Record<string, unknown> = { model, messages: messagesOf(data), stream };
    if (stream) body.stream_options = { include_usage: true };
    if (data.max_tokens !== undefined) body.max_tokens = data.max_tokens;
    if (data.temperature !== undefined) body.temperature = data.temperature;
    ctx.reportUsage({ model, provider });
    ctx.progress(0, { stage: 'requesting' });
    const started = performance.now();
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
    try {
      const res = await fetch(url, { method: 'POST', headers: headers(ctx.traceparent), body: JSON.stringify(body), signal });
      if (!res.ok) throw httpError(service, res.status, await res.text().catch(() => ''), res.headers.get('retry-after'));
      const out = stream ? await readStream(res, ctx, started, data.max_tokens) : await readJson(res, ctx, started);
      ctx.progress(100, { stage: 'done' });
      return { output: out, outputCount: 1, outputSize: Buffer.byteLength(out.content) };
    } catch (err) {
      throw fetchError(service, err, ctx.signal, timeoutMs);
    }
  }

  function headers(traceparent: string): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', traceparent };
    if (options.apiKey) h.authorization = `Bearer ${options.apiKey}`;
    return h;
  }

  async function readJson(res: Response, ctx: ConnectorContext, started: number): Promise<ChatOutput> {
    const json = (await res.json()) as { model?: string; usage?: OpenAiUsage; choices?: { message?: { content?: string }; finish_reason?: string }[] };
    const model = json.model ?? 'unknown';
    ctx.reportUsage({ ...usageFromOpenAi(json.usage), model, timeToFirstTokenMs: performance.now() - started });
    const choice = json.choices?.[0];
    return { content: choice?.message?.content ?? '', model, finishReason: choice?.finish_reason ?? null };
  }

  async function readStream(res: Response, ctx: ConnectorContext, started: number, maxTokens: number | undefined): Promise<ChatOutput> {
    if (!res.body) throw new ConnectorError(`${service} sent no body`, { category: 'network', type: 'StreamError' });
    let content = '';
    let model = 'unknown';
    let finishReason: string | null = null;
    let chunks = 0;
    let lastProgress = 0;
    const interval = options.progressIntervalMs ?? 500;
    for await (const payload of readSseData(res.body)) {
      if (payload.trim() === '[DONE]') break;
      const chunk = parseChunk(payload);
      if (chunk.model) model = chunk.model;
      if (chunk.usage) ctx.reportUsage({ ...usageFromOpenAi(chunk.usage), model });
      const choice = chunk.choices?.[0];
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      const delta = choice?.delta?.content;
      if (typeof delta !== 'string' || delta.length === 0) continue;
      if (chunks++ === 0) ctx.reportUsage({ timeToFirstTokenMs: performance.now() - started });
      content += delta;
      const now = performance.now();
      if (now - lastProgress >= interval) {
        lastProgress = now;
        const pct = maxTokens ? Math.min(99, (chunks / maxTokens) * 100) : Math.min(95, 10 + chunks);
        ctx.progress(pct, { step: chunks, stage: 'streaming' });
      }
    }
    return { content, model, finishReason };
  }

  return { serviceType: options.serviceType ?? 'openai', name: 'openai-compatible', run };
}

interface StreamChunk {
  model?: string;
  usage?: OpenAiUsage | null;
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
}

function parseChunk(payload: string): StreamChunk {
  try {
    return JSON.parse(payload) as StreamChunk;
  } catch {
    throw new ConnectorError(`stream chunk is not JSON: ${payload.slice(0, 200)}`, { category: 'model', type: 'StreamError' });
  }
}
