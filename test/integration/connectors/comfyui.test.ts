import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createComfyUiConnector } from '../../../connectors/comfyui.js';
import { startComfyUiServer, type ComfyUiServer, type ComfyUiServerOptions } from '../../helpers/comfyui-server.js';
import { waitFor } from '../../helpers/redis.js';
import { mergedUsage, recordingContext, type RecordingContext } from './fake-context.js';

function workflow(sampler: Record<string, unknown> = {}) {
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
    '3': { class_type: 'KSampler', inputs: { steps: 5, seed: 1, ...sampler } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI' } },
  };
}
const job = (data: Record<string, unknown>) => ({ id: 'img-1', name: 'txt2img', data, attempt: 1, queue: 'images' });

/** A fake ComfyUI for the tests of one describe block. */
function serverFor(options: ComfyUiServerOptions = {}): { readonly it: ComfyUiServer } {
  const holder = {} as { it: ComfyUiServer };
  beforeAll(async () => {
    holder.it = await startComfyUiServer(options);
  });
  afterAll(() => holder.it.close());
  return holder;
}

/** The id of the newest prompt the server received (tests in a file run one after another). */
const lastPromptId = (server: ComfyUiServer): string => [...server.prompts.keys()].at(-1)!;
const sampled = (ctx: RecordingContext, step: number) => waitFor(() => ctx.progressed.some((p) => (p.detail?.step ?? 0) >= step), { what: `sampling step ${step}` });
/** Runs the job, resolving with the result or the error; `ms` is how long it took. */
async function timed<T>(p: Promise<T>): Promise<{ value: T | unknown; ms: number }> {
  const started = performance.now();
  const value = await p.catch((e: unknown) => e);
  return { value, ms: performance.now() - started };
}

describe('comfyui connector', () => {
  const server = serverFor();

  it('queues the workflow, follows progress over the WebSocket, collects outputs, reports GPU-seconds', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    const ctx = recordingContext();
    const result = await c.run(job({ workflow: workflow(), model: 'sdxl' }), ctx);
    const [promptId, prompt] = [...server.it.prompts.entries()].at(-1)!;
    expect(prompt.workflow['3']!.class_type).toBe('KSampler');
    expect(result).toMatchObject({ output: { promptId, files: [{ node: '9', filename: expect.stringMatching(/\.png$/), type: 'output' }] }, outputCount: 1 });
    const sampling = ctx.progressed.filter((p) => p.detail?.totalSteps === 5);
    expect(sampling.map((p) => p.detail!.step)).toEqual([1, 2, 3, 4, 5]);
    const percents = ctx.progressed.map((p) => p.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    const usage = mergedUsage(ctx.usage);
    expect(usage).toMatchObject({ model: 'sdxl', provider: 'comfyui' });
    expect(usage.gpuSeconds).toBeGreaterThan(0);
  });

  it('an execution error (CUDA OOM) becomes an out_of_memory error', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    await expect(c.run(job({ workflow: workflow({ fail: 'oom' }) }), recordingContext())).rejects.toMatchObject({
      category: 'out_of_memory',
      message: expect.stringContaining('CUDA out of memory'),
    });
  });

  it('cancellation interrupts the running prompt on the server, and only that one', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    const other = recordingContext();
    const otherRun = c.run(job({ workflow: workflow({ steps: 40, stepMs: 10 }) }), other);
    await sampled(other, 1);
    const otherId = lastPromptId(server.it);
    const ctx = recordingContext();
    const running = c.run(job({ workflow: workflow({ steps: 500, stepMs: 20 }) }), ctx).catch((e: unknown) => e);
    await sampled(ctx, 2);
    const promptId = lastPromptId(server.it);
    const reason = new Error('cancelled by test');
    ctx.controller.abort(reason);
    expect(await running).toBe(reason);
    expect(await server.it.settled(promptId)).toBe('interrupted');
    expect(server.it.interrupts).toContainEqual({ prompt_id: promptId });
    await expect(otherRun).resolves.toMatchObject({ outputCount: 1 });
    expect(server.it.prompts.get(otherId)!.status).toBe('success');
  });

  it('an interrupt from the ComfyUI side (not this job) fails the job as interrupted, without retries', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    const ctx = recordingContext();
    const running = c.run(job({ workflow: workflow({ steps: 500, stepMs: 10 }) }), ctx);
    await sampled(ctx, 2);
    // The UI's cancel button, as older front ends send it: no prompt id.
    await fetch(`${server.it.baseUrl}/interrupt`, { method: 'POST' });
    await expect(running).rejects.toMatchObject({ category: 'cancelled', type: 'InterruptedError', retryable: false, message: expect.stringContaining("not at this job's request") });
    expect(ctx.signal.aborted).toBe(false);
  });

  it('the deadline stops the prompt on the server', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl, timeoutMs: 300 });
    const { value } = await timed(c.run(job({ workflow: workflow({ steps: 500, stepMs: 10 }) }), recordingContext()));
    expect(value).toMatchObject({ category: 'timeout' });
    expect(await server.it.settled(lastPromptId(server.it))).toBe('interrupted');
  });

  it('a workflow-less job is rejected without a request', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    await expect(c.run(job({}), recordingContext())).rejects.toMatchObject({ category: 'validation', retryable: false });
  });
});

describe('comfyui connector: a prompt that ends before POST /prompt answers', () => {
  // A cached re-run finishes in milliseconds: every message reaches the socket before the prompt_id does.
  const server = serverFor({ replyDelay: 'after-run' });

  it('completes at once with its outputs instead of waiting for the deadline', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl, timeoutMs: 5000 });
    const ctx = recordingContext();
    const { value, ms } = await timed(c.run(job({ workflow: workflow(), model: 'sdxl' }), ctx));
    expect(value).toMatchObject({ output: { promptId: lastPromptId(server.it), files: [{ node: '9' }] }, outputCount: 1 });
    expect(ms).toBeLessThan(2000);
    expect(ctx.progressed.filter((p) => p.detail?.totalSteps === 5).map((p) => p.detail!.step)).toEqual([1, 2, 3, 4, 5]);
    expect(mergedUsage(ctx.usage).gpuSeconds).toBeGreaterThan(0);
  });

  it('an error that came before the reply still fails the job at once', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl, timeoutMs: 5000 });
    const { value, ms } = await timed(c.run(job({ workflow: workflow({ fail: 'oom' }) }), recordingContext()));
    expect(value).toMatchObject({ category: 'out_of_memory' });
    expect(ms).toBeLessThan(2000);
  });
});

describe('comfyui connector: the end of a prompt', () => {
  // ComfyUI sends execution_success inside execute(); the history is stored after, then `executing` null.
  const server = serverFor({ historyDelayMs: 300 });

  it('waits for the history to be stored: a success has its files', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    const result = await c.run(job({ workflow: workflow() }), recordingContext());
    expect(result).toMatchObject({ outputCount: 1, output: { files: [{ node: '9', type: 'output' }] } });
  });
});

describe('comfyui connector: a finished prompt without history', () => {
  const server = serverFor({ storeHistory: false });

  it('fails the job (outputs unknown, retryable) instead of succeeding with no files', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl, timeoutMs: 10_000 });
    const { value, ms } = await timed(c.run(job({ workflow: workflow() }), recordingContext()));
    expect(value).toMatchObject({ type: 'MissingHistoryError', retryable: true, message: expect.stringContaining('no history') });
    expect(ms).toBeLessThan(3000);
  });
});

describe('comfyui connector: cancellation on a queueing ComfyUI', () => {
  const server = serverFor({ fifo: true });

  it('a cancelled job whose prompt still waits in the queue is deleted from it, and the running prompt is left alone', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    const first = recordingContext();
    const firstRun = c.run(job({ workflow: workflow({ steps: 30, stepMs: 10 }) }), first);
    await sampled(first, 1);
    const firstId = lastPromptId(server.it);
    const ctx = recordingContext();
    const queued = c.run(job({ workflow: workflow() }), ctx).catch((e: unknown) => e);
    await waitFor(() => ctx.progressed.some((p) => p.detail?.stage === 'queued'), { what: 'the prompt queued' });
    const promptId = lastPromptId(server.it);
    expect(server.it.prompts.get(promptId)!.status).toBe('queued');
    const reason = new Error('cancelled by test');
    ctx.controller.abort(reason);
    expect(await queued).toBe(reason);
    expect(await server.it.settled(promptId)).toBe('deleted');
    expect(server.it.deletes).toContain(promptId);
    await expect(firstRun).resolves.toMatchObject({ outputCount: 1 });
    expect(server.it.prompts.get(firstId)!.status).toBe('success');
    expect(server.it.interrupts).toEqual([]);
  });
});

describe('comfyui connector: cancellation while POST /prompt is in flight', () => {
  const server = serverFor({ replyDelay: 1000 });

  it('the job ends at once, before the reply, and the prompt is stopped once its id arrives', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    const ctx = recordingContext();
    const running = timed(c.run(job({ workflow: workflow({ steps: 200, stepMs: 10 }) }), ctx));
    await waitFor(() => server.it.prompts.size > 0, { what: 'POST /prompt' });
    const promptId = lastPromptId(server.it);
    const reason = new Error('cancelled by test');
    const abortedAt = performance.now();
    ctx.controller.abort(reason);
    const { value } = await running;
    expect(value).toBe(reason);
    // The reply comes 1 s after the POST: the job did not wait for it.
    expect(performance.now() - abortedAt).toBeLessThan(500);
    expect(await server.it.settled(promptId)).toBe('interrupted');
    expect(server.it.interrupts).toContainEqual({ prompt_id: promptId });
  });
});

describe('comfyui connector: a lost WebSocket', () => {
  const server = serverFor();

  /** A job of `steps` sampling steps, run until its step `until`: the run, its context and its prompt's ids. */
  async function started(steps: number, until = 2, data: Record<string, unknown> = {}) {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    const ctx = recordingContext();
    const running = c.run(job({ workflow: workflow({ steps, stepMs: 10 }), ...data }), ctx);
    await sampled(ctx, until);
    const promptId = lastPromptId(server.it);
    return { running, ctx, promptId, clientId: server.it.prompts.get(promptId)!.clientId };
  }

  /** Drops the prompt's socket (`how`) with reconnects refused: the job fails, and the prompt was stopped first. */
  async function lostForGood(run: Awaited<ReturnType<typeof started>>, how: 'close' | 'oversized-frame', message: RegExp): Promise<void> {
    server.it.refuseSockets = true;
    try {
      server.it.dropSocket(run.clientId, how);
      await expect(run.running).rejects.toMatchObject({ category: 'network', retryable: true, message: expect.stringMatching(message) });
    } finally {
      server.it.refuseSockets = false;
    }
    // Stopped before the failure is reported: a retry cannot run alongside it.
    expect(server.it.interrupts).toContainEqual({ prompt_id: run.promptId });
    expect(await server.it.settled(run.promptId)).toBe('interrupted');
  }

  it('reconnects with the same clientId and finishes the prompt, which runs once', async () => {
    const { running, ctx, promptId, clientId } = await started(30, 3);
    server.it.dropSocket(clientId);
    await expect(running).resolves.toMatchObject({ output: { promptId, files: [{ node: '9' }] }, outputCount: 1 });
    expect(server.it.connections.filter((id) => id === clientId)).toHaveLength(2);
    expect([...server.it.prompts.values()].filter((p) => p.clientId === clientId)).toHaveLength(1);
    const percents = ctx.progressed.map((p) => p.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  it('a prompt that finished while no socket listened is read from the history', async () => {
    const { running, ctx, promptId, clientId } = await started(10, 2, { model: 'sdxl' });
    const release = server.it.holdSockets();
    try {
      server.it.dropSocket(clientId);
      // Its last messages, the end included, go nowhere.
      expect(await server.it.settled(promptId)).toBe('success');
    } finally {
      release();
    }
    await expect(running).resolves.toMatchObject({ output: { promptId, files: [{ node: '9' }] }, outputCount: 1 });
    expect(mergedUsage(ctx.usage).gpuSeconds).toBeGreaterThan(0);
  });

  it('when it cannot reconnect, the prompt is stopped before the job fails as retryable', async () => {
    await lostForGood(await started(300), 'close', /stopped on ComfyUI/);
  });

  it('a socket error after the open (an oversized frame) fails the job instead of the process', async () => {
    await lostForGood(await started(300), 'oversized-frame', /Max payload size exceeded[^]*stopped on ComfyUI/);
  });

  it('a socket error after the open is survived by reconnecting', async () => {
    const { running, promptId, clientId } = await started(20);
    server.it.dropSocket(clientId, 'oversized-frame');
    await expect(running).resolves.toMatchObject({ output: { promptId }, outputCount: 1 });
  });
});

describe('comfyui connector: a server that takes the connection and never answers', () => {
  it('fails the job as a retryable network error after the request timeout, not at the job deadline', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const c = createComfyUiConnector({ baseUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 300, timeoutMs: 60_000 });
      const { value, ms } = await timed(c.run(job({ workflow: workflow() }), recordingContext()));
      expect(value).toMatchObject({ category: 'network', retryable: true, message: expect.stringContaining('handshake') });
      expect(ms).toBeLessThan(10_000);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
