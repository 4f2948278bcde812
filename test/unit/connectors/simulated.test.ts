import { describe, expect, it } from 'vitest';
import { createSimulatedConnector, SIMULATED_FAILURE_KINDS, simulatedFailure } from '../../../connectors/simulated.js';
import { createConnector } from '../../../connectors/registry.js';
import { readSseData } from '../../../connectors/sse-reader.js';
import { toErrorInfo } from '../../../src/events/index.js';
import { ConfigError } from '../../../src/errors.js';
import { recordingContext } from '../../integration/connectors/fake-context.js';

const job = (id: string, data: unknown = {}, attempt = 1) => ({ id, name: 'n', data, attempt, queue: 'q' });

async function outcome(c: ReturnType<typeof createSimulatedConnector>, id: string): Promise<string> {
  return c.run(job(id), recordingContext()).then(
    () => 'ok',
    (e: { category: string }) => e.category,
  );
}

describe('simulated connector', () => {
  it('is deterministic per seed and job, whatever the order', async () => {
    const opts = { seed: 42, latencyMs: { min: 1, max: 2 }, progressSteps: 1, failureRate: 0.5 };
    const ids = Array.from({ length: 12 }, (_, i) => `job-${i}`);
    const a = await Promise.all(ids.map((id) => outcome(createSimulatedConnector(opts), id)));
    const b = await Promise.all([...ids].reverse().map((id) => outcome(createSimulatedConnector(opts), id)));
    expect(a).toEqual(b.reverse());
    expect(new Set(a).size).toBeGreaterThan(1);
  });

  it('reports progress steps and token usage', async () => {
    const c = createSimulatedConnector({ seed: 1, latencyMs: { min: 4, max: 4 }, progressSteps: 4, usage: { model: 'gpt-4o', provider: 'openai', inputTokens: { min: 100, max: 100 }, outputTokens: { min: 20, max: 20 }, cachedShare: 0.5 } });
    const ctx = recordingContext();
    await c.run(job('a'), ctx);
    expect(ctx.progressed.map((p) => p.percent)).toEqual([25, 50, 75, 100]);
    expect(ctx.usage[0]).toMatchObject({ model: 'gpt-4o', provider: 'openai', inputTokens: 100, cachedTokens: 50, outputTokens: 20 });
  });

  it('fails only the first N attempts when told so', async () => {
    const c = createSimulatedConnector({ seed: 1, latencyMs: { min: 1, max: 1 } });
    const data = { simulate: { fail: 'rate_limit', failAttempts: 1 } };
    await expect(c.run(job('x', data, 1), recordingContext())).rejects.toMatchObject({ category: 'rate_limit' });
    await expect(c.run(job('x', data, 2), recordingContext())).resolves.toMatchObject({ outputCount: 1 });
  });

  it('stops at once when the signal aborts', async () => {
    const c = createSimulatedConnector({ seed: 1 });
    const ctx = recordingContext();
    const running = c.run(job('s', { simulate: { stuck: true } }), ctx);
    const reason = new Error('stop');
    ctx.controller.abort(reason);
    await expect(running).rejects.toBe(reason);
  });

  it('every failure kind classifies as its category, and toErrorInfo keeps it', () => {
    const categories = SIMULATED_FAILURE_KINDS.map((k) => toErrorInfo(simulatedFailure(k)).category);
    expect(categories).toEqual(['timeout', 'out_of_memory', 'rate_limit', 'network', 'model', 'validation']);
  });
});

describe('connector registry', () => {
  it('creates connectors by name and names the missing variable', () => {
    expect(createConnector('simulated').name).toBe('simulated');
    expect(createConnector('comfyui', { comfyui: { baseUrl: 'http://x' } }).serviceType).toBe('comfyui');
    expect(() => createConnector('comfyui')).toThrow(/COMFYUI_URL/);
    // A required variable: the advice is to set it (not "unset it to use the default").
    expect(() => createConnector('openai-compatible')).toThrow(
      'Missing configuration OPENAI_BASE_URL: is required for --connector openai-compatible (e.g. https://api.openai.com/v1). Set it and start again.',
    );
    expect(() => createConnector('nope')).toThrow(ConfigError);
  });
});

describe('readSseData', () => {
  it('joins multi-line data, skips comments, handles chunk splits and CRLF', async () => {
    const parts = [': comment\r\ndata: {"a"', ':1}\r\n\r\ndata: x\ndata: y\n\n', 'data: [DONE]'];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(new TextEncoder().encode(p));
        c.close();
      },
    });
    const out: string[] = [];
    for await (const d of readSseData(body)) out.push(d);
    expect(out).toEqual(['{"a":1}', 'x\ny', '[DONE]']);
  });
});
