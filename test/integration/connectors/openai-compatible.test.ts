import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAiCompatibleConnector } from '../../../connectors/openai-compatible.js';
import { ConnectorError } from '../../../connectors/connector-error.js';
import { startOpenAiServer, type OpenAiServer } from '../../helpers/openai-server.js';
import { waitFor } from '../../helpers/redis.js';
import { mergedUsage, recordingContext } from './fake-context.js';

let server: OpenAiServer;
beforeAll(async () => {
  server = await startOpenAiServer();
});
afterAll(() => server.close());

const job = (data: Record<string, unknown>) => ({ id: 'j1', name: 'chat', data, attempt: 1, queue: 'q' });

/** What the job fails with (and a test failure when it succeeds). */
async function failure(c: ReturnType<typeof createOpenAiCompatibleConnector>, prompt: string, data: Record<string, unknown> = {}): Promise<ConnectorError> {
  const result = await c.run(job({ prompt, ...data }), recordingContext()).then(
    (r) => new Error(`"${prompt}" succeeded: ${JSON.stringify(r)}`),
    (e: unknown) => e,
  );
  expect(result).toBeInstanceOf(ConnectorError);
  return result as ConnectorError;
}

describe('openai-compatible connector', () => {
  it('streams: content, model, tokens (cached, reasoning), time to first token, trace header', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl, apiKey: 'sk-test', model: 'gpt-4o-mini' });
    const ctx = recordingContext();
    const result = await c.run(job({ prompt: 'hi' }), ctx);
    expect(result).toMatchObject({ output: { content: 'Hello, world!', model: 'gpt-4o-mini-2024-07-18', finishReason: 'stop' }, outputCount: 1, outputSize: 13 });
    const usage = mergedUsage(ctx.usage);
    // The model asked for, as failed attempts report it too (the answer's model is in the output).
    expect(usage).toMatchObject({ model: 'gpt-4o-mini', provider: 'openai', inputTokens: 42, outputTokens: 4, cachedTokens: 10, reasoningTokens: 2 });
    expect(usage.timeToFirstTokenMs).toBeGreaterThan(0);
    const req = server.requests.at(-1)!;
    expect(req.body).toMatchObject({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true } });
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.headers.traceparent).toBe(ctx.traceparent);
    expect(ctx.progressed.at(-1)).toMatchObject({ percent: 100 });
  });

  it('sends max_completion_tokens and any other parameters from params, keeping model, messages and stream its own', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl, model: 'o4-mini' });
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    await c.run(job({ prompt: 'hi', stream: false, max_completion_tokens: 64, params: { tools, response_format: { type: 'json_object' }, seed: 7, model: 'other', stream: true, stream_options: { x: 1 } } }), recordingContext());
    const body = server.requests.at(-1)!.body as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'o4-mini', stream: false, max_completion_tokens: 64, tools, response_format: { type: 'json_object' }, seed: 7 });
    expect(body.messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(body).not.toHaveProperty('stream_options');
    expect(body).not.toHaveProperty('max_tokens');
  });

  it('an alias asked for (a proxy names the model behind it): the usage names that model, which the price table knows', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl, model: 'smart' });
    const ctx = recordingContext();
    await c.run(job({ prompt: 'hi' }), ctx);
    expect(mergedUsage(ctx.usage)).toMatchObject({ model: 'gpt-4o-2024-07-18', inputTokens: 42 });
  });

  it('without streaming: the same usage from the JSON answer', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl, stream: false });
    const ctx = recordingContext();
    const result = await c.run(job({ messages: [{ role: 'user', content: 'hi' }], model: 'gpt-4o' }), ctx);
    expect(result).toMatchObject({ output: { content: 'Hello, world!', model: 'gpt-4o-2024-07-18' } });
    expect(mergedUsage(ctx.usage)).toMatchObject({ inputTokens: 42, outputTokens: 4, cachedTokens: 10, reasoningTokens: 2 });
    expect(server.requests.at(-1)!.body.stream).toBe(false);
  });

  it('maps 429 to a retryable rate_limit error naming Retry-After, 503 to network, 500 to model', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl });
    const err = (await c.run(job({ prompt: 'fail:429' }), recordingContext()).catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ category: 'rate_limit', retryable: true, code: '429' });
    expect(err.message).toContain('retry after 7s');
    await expect(c.run(job({ prompt: 'fail:503' }), recordingContext())).rejects.toMatchObject({ category: 'network', retryable: true });
    await expect(c.run(job({ prompt: 'fail:500' }), recordingContext())).rejects.toMatchObject({ category: 'model' });
  });

  it('a refused connection is a network error; a missing prompt is a validation error not worth retrying', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: 'http://127.0.0.1:1/v1' });
    await expect(c.run(job({ prompt: 'hi' }), recordingContext())).rejects.toMatchObject({ category: 'network' });
    await expect(c.run(job({}), recordingContext())).rejects.toMatchObject({ category: 'validation', retryable: false });
  });

  it('honors ctx.signal: the request is abandoned and the abort reason passes through', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl });
    const ctx = recordingContext();
    const before = server.aborted;
    const running = c.run(job({ prompt: 'slow:5000' }), ctx).catch((e: unknown) => e);
    await waitFor(() => server.requests.some((r) => r.body.messages?.[0]?.content === 'slow:5000'), { what: 'the request to arrive' });
    const reason = new Error('cancelled by test');
    ctx.controller.abort(reason);
    expect(await running).toBe(reason);
    await waitFor(() => server.aborted > before, { what: 'the server to see the client go' });
  });

  it('408 and 409 are retryable; a 429 for insufficient_quota is not; Retry-After as an HTTP-date and retry-after-ms read right', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl });
    expect(await failure(c, 'fail:408')).toMatchObject({ category: 'timeout', retryable: true, code: '408' });
    expect(await failure(c, 'fail:409')).toMatchObject({ retryable: true, code: '409' });
    const quota = await failure(c, 'fail:429 code:insufficient_quota');
    expect(quota).toMatchObject({ category: 'rate_limit', type: 'InsufficientQuotaError', retryable: false });
    expect(quota.message).toContain('You exceeded your current quota');
    const date = await failure(c, 'fail:429 retry-after:date:30');
    expect(date).toMatchObject({ category: 'rate_limit', retryable: true });
    expect(date.message).toMatch(/retry after (29|30)s\)/);
    expect(date.retryAfterMs).toBeGreaterThan(28_000);
    const ms = await failure(c, 'fail:429 retry-after-ms:1500');
    expect(ms.message).toContain('retry after 1.5s)');
    // What the `retry-after` backoff waits for.
    expect(ms.retryAfterMs).toBe(1500);
    expect((await failure(c, 'fail:429 retry-after:soon')).message).not.toContain('retry after');
  });
});

describe('openai-compatible connector: errors inside a 200 answer', () => {
  it('a stream chunk with "error" (OpenRouter, vLLM) fails the job with its message, retryable by its code', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl });
    const err = await failure(c, 'stream-error:server_error');
    expect(err).toMatchObject({ category: 'model', retryable: true, code: 'server_error' });
    expect(err.message).toContain('Provider disconnected unexpectedly');
    expect(await failure(c, 'stream-error:502')).toMatchObject({ category: 'network', retryable: true, code: '502' });
    expect(await failure(c, 'stream-error:429')).toMatchObject({ category: 'rate_limit', retryable: true });
    expect(await failure(c, 'stream-error:400')).toMatchObject({ category: 'validation', retryable: false, code: '400' });
  });

  it('an SSE "event: error" fails the job; an unknown code is not retried', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl });
    const err = await failure(c, 'event-error:overloaded');
    expect(err).toMatchObject({ category: 'network', retryable: true, code: 'overloaded' });
    expect(err.message).toContain('Model overloaded, try again later');
    expect(await failure(c, 'event-error:context_length_exceeded')).toMatchObject({ retryable: false, code: 'context_length_exceeded' });
  });

  it('a 200 JSON body with "error" fails the job, streaming or not', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl });
    const err = await failure(c, 'body-error:503', { stream: false });
    expect(err).toMatchObject({ category: 'network', retryable: true, code: '503' });
    expect(err.message).toContain('The server had an error while processing your request');
    expect(await failure(c, 'body-error:invalid_request_error', { stream: false })).toMatchObject({ retryable: false });
    expect(await failure(c, 'body-error:429')).toMatchObject({ category: 'rate_limit', retryable: true });
  });

  it('a stream that ends without finish_reason and without [DONE] was cut: a retryable network error, not a short answer', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl });
    const err = await failure(c, 'cut');
    expect(err).toMatchObject({ category: 'network', type: 'StreamError', retryable: true });
    expect(err.message).toContain('before the answer was complete');
    expect(await failure(c, 'cut:mid')).toMatchObject({ category: 'network', type: 'StreamError', retryable: true });
  });
});

describe('openai-compatible connector: usage and time to first token', () => {
  it('running usage totals on every chunk (vLLM continuous_usage_stats, Gemini) count once', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl });
    const ctx = recordingContext();
    await c.run(job({ prompt: 'usage:running' }), ctx);
    expect(mergedUsage(ctx.usage)).toMatchObject({ inputTokens: 42, outputTokens: 4, cachedTokens: 10, reasoningTokens: 2 });
  });

  it.each(['reasoning_content', 'reasoning'])('a reasoning delta (%s) is the first token and moves progress', async (field) => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl, progressIntervalMs: 0 });
    const ctx = recordingContext();
    // The content comes 1500 ms after the reasoning.
    const result = await c.run(job({ prompt: `reasoning:${field}:1500` }), ctx);
    expect(result).toMatchObject({ output: { content: 'Hello, world!' } });
    const ttft = mergedUsage(ctx.usage).timeToFirstTokenMs;
    expect(ttft).toBeGreaterThan(0);
    expect(ttft).toBeLessThan(1000);
    expect(ctx.progressed.filter((p) => p.detail?.stage === 'streaming').length).toBeGreaterThanOrEqual(6);
  });

  it('a tool-call delta is the first token of an answer without content', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl, progressIntervalMs: 0 });
    const ctx = recordingContext();
    const result = await c.run(job({ prompt: 'tools:50' }), ctx);
    const call = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
    expect(result).toMatchObject({ output: { content: '', finishReason: 'tool_calls', toolCalls: [call] } });
    // Without streaming the same call comes whole.
    const whole = await c.run(job({ prompt: 'tools', stream: false }), recordingContext());
    expect(whole).toMatchObject({ output: { content: '', finishReason: 'tool_calls', toolCalls: [call] } });
    expect(mergedUsage(ctx.usage).timeToFirstTokenMs).toBeGreaterThanOrEqual(40);
    expect(ctx.progressed.some((p) => p.detail?.stage === 'streaming')).toBe(true);
  });

  it('without streaming there is no time to first token (it would be the whole request)', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl, stream: false });
    const ctx = recordingContext();
    await c.run(job({ prompt: 'hi' }), ctx);
    const usage = mergedUsage(ctx.usage);
    expect(usage).toMatchObject({ inputTokens: 42, outputTokens: 4 });
    expect(usage.timeToFirstTokenMs).toBeUndefined();
  });
});

describe('openai-compatible connector: timeout and framing', () => {
  it('the timeout bounds the wait for headers and each silence, not a long stream that keeps sending', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl, timeoutMs: 1000 });
    // Four pieces 300 ms apart: longer than 1000 ms in all, never 1000 ms silent.
    await expect(c.run(job({ prompt: 'gap:300' }), recordingContext())).resolves.toMatchObject({ output: { content: 'Hello, world!', finishReason: 'stop' } });
    const headers = await failure(c, 'slow:4000');
    expect(headers).toMatchObject({ category: 'timeout', retryable: true, code: 'ETIMEDOUT' });
    expect(headers.message).toContain('sent no response headers within 1000 ms');
    const idle = await failure(c, 'stall:4000');
    expect(idle).toMatchObject({ category: 'timeout', retryable: true, code: 'ETIMEDOUT' });
    expect(idle.message).toContain('sent nothing for 1000 ms');
  });

  it.each(['cr', 'crlf'])('reads SSE lines ending in %s', async (eol) => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl });
    const ctx = recordingContext();
    await expect(c.run(job({ prompt: `eol:${eol}` }), ctx)).resolves.toMatchObject({ output: { content: 'Hello, world!', finishReason: 'stop' } });
    expect(mergedUsage(ctx.usage)).toMatchObject({ inputTokens: 42, outputTokens: 4 });
  });
});
