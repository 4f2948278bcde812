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

describe('openai-compatible connector', () => {
  it('streams: content, model, tokens (cached, reasoning), time to first token, trace header', async () => {
    const c = createOpenAiCompatibleConnector({ baseUrl: server.baseUrl, apiKey: 'sk-test', model: 'gpt-4o-mini' });
    const ctx = recordingContext();
    const result = await c.run(job({ prompt: 'hi' }), ctx);
    expect(result).toMatchObject({ output: { content: 'Hello, world!', model: 'gpt-4o-mini-2024-07-18', finishReason: 'stop' }, outputCount: 1, outputSize: 13 });
    const usage = mergedUsage(ctx.usage);
    expect(usage).toMatchObject({ model: 'gpt-4o-mini-2024-07-18', provider: 'openai', inputTokens: 42, outputTokens: 4, cachedTokens: 10, reasoningTokens: 2 });
    expect(usage.timeToFirstTokenMs).toBeGreaterThan(0);
    const req = server.requests.at(-1)!;
    expect(req.body).toMatchObject({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true } });
    expect(req.headers.authorization).toBe('Bearer sk-test');
    expect(req.headers.traceparent).toBe(ctx.traceparent);
    expect(ctx.progressed.at(-1)).toMatchObject({ percent: 100 });
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
});
