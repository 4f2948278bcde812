import { getEventListeners } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
/**
 * A full garbage collection, as `--expose-gc` gives it (vitest's workers do not run with it). The
 * deadline tests need one: on Node 20 `AbortSignal.any` holds its sources weakly, and a timeout
 * signal nothing else holds is collected and never fires (nodejs/node#57736).
 */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}
/** The GPU usage reports of a run (each one must come once). */
const gpuReports = (ctx: RecordingContext) => ctx.usage.filter((u) => u.gpuSeconds !== undefined);
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

  it('the deadline holds through a garbage collection', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl, timeoutMs: 800 });
    const ctx = recordingContext();
    const running = timed(c.run(job({ workflow: workflow({ steps: 1000, stepMs: 10 }) }), ctx));
    await sampled(ctx, 2);
    collectGarbage();
    const { value, ms } = await running;
    expect(value).toMatchObject({ category: 'timeout', type: 'TimeoutError', message: expect.stringContaining('within 800 ms') });
    expect(ms).toBeLessThan(800 + 1500);
    expect(await server.it.settled(lastPromptId(server.it))).toBe('interrupted');
  });

  it('combines no signals with AbortSignal.any and leaves no listener on the job signal', async () => {
    // Node 20's AbortSignal.any keeps an entry for every combined signal on each of its sources
    // for good: a long-lived source (the connector's own, a worker's) grows by one per call.
    const any = vi.spyOn(AbortSignal, 'any');
    try {
      const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
      const ok = recordingContext();
      await expect(c.run(job({ workflow: workflow() }), ok)).resolves.toMatchObject({ outputCount: 1 });
      const failed = recordingContext();
      await expect(c.run(job({ workflow: workflow({ fail: 'oom' }) }), failed)).rejects.toMatchObject({ category: 'out_of_memory' });
      expect(any).not.toHaveBeenCalled();
      expect(getEventListeners(ok.signal, 'abort')).toHaveLength(0);
      expect(getEventListeners(failed.signal, 'abort')).toHaveLength(0);
    } finally {
      any.mockRestore();
    }
  });

  it('a prompt that fails after running (CUDA OOM in the decoder) still reports its GPU time and model, once', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    const ctx = recordingContext();
    const failing = { ...workflow({ steps: 10, stepMs: 10 }), '5': { class_type: 'VAEDecode', inputs: { fail: 'oom' } } };
    await expect(c.run(job({ workflow: failing, model: 'sdxl' }), ctx)).rejects.toMatchObject({ category: 'out_of_memory' });
    expect(gpuReports(ctx)).toHaveLength(1);
    const usage = mergedUsage(ctx.usage);
    expect(usage).toMatchObject({ model: 'sdxl', provider: 'comfyui' });
    // Ten sampling steps of 10 ms ran before the error.
    expect(usage.gpuSeconds).toBeGreaterThanOrEqual(0.08);
  });

  it('a job cancelled while its prompt runs reports the GPU time used up to the cancel, once', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl, model: 'flux-dev' });
    const ctx = recordingContext();
    const running = c.run(job({ workflow: workflow({ steps: 500, stepMs: 10 }) }), ctx).catch((e: unknown) => e);
    await sampled(ctx, 5);
    const reason = new Error('cancelled by test');
    ctx.controller.abort(reason);
    expect(await running).toBe(reason);
    expect(gpuReports(ctx)).toHaveLength(1);
    const usage = mergedUsage(ctx.usage);
    expect(usage).toMatchObject({ model: 'flux-dev', provider: 'comfyui' });
    expect(usage.gpuSeconds).toBeGreaterThanOrEqual(0.04);
    expect(await server.it.settled(lastPromptId(server.it))).toBe('interrupted');
  });

  it('a job that hits its deadline or is interrupted on ComfyUI reports the GPU time used', async () => {
    const timedOut = recordingContext();
    const deadline = createComfyUiConnector({ baseUrl: server.it.baseUrl, timeoutMs: 400 });
    await expect(deadline.run(job({ workflow: workflow({ steps: 500, stepMs: 10 }), model: 'sdxl' }), timedOut)).rejects.toMatchObject({ category: 'timeout' });
    expect(gpuReports(timedOut)).toHaveLength(1);
    expect(mergedUsage(timedOut.usage)).toMatchObject({ model: 'sdxl', gpuSeconds: expect.any(Number) });
    expect(mergedUsage(timedOut.usage).gpuSeconds).toBeGreaterThan(0);

    const interrupted = recordingContext();
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl });
    const running = c.run(job({ workflow: workflow({ steps: 500, stepMs: 10 }), model: 'sdxl' }), interrupted);
    await sampled(interrupted, 3);
    await fetch(`${server.it.baseUrl}/interrupt`, { method: 'POST' });
    await expect(running).rejects.toMatchObject({ type: 'InterruptedError' });
    expect(gpuReports(interrupted)).toHaveLength(1);
    expect(mergedUsage(interrupted.usage).gpuSeconds).toBeGreaterThan(0);
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

describe('comfyui connector: a POST /prompt that is not answered in time', () => {
  const server = serverFor({ replyDelay: 4000 });

  it('fails the job at the request timeout, a garbage collection notwithstanding', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl, requestTimeoutMs: 500, timeoutMs: 60_000 });
    const running = timed(c.run(job({ workflow: workflow() }), recordingContext()));
    await waitFor(() => server.it.prompts.size > 0, { what: 'POST /prompt' });
    collectGarbage();
    const { value, ms } = await running;
    expect(value).toMatchObject({ category: 'timeout', retryable: true, message: expect.stringContaining('did not answer within 500 ms') });
    expect(ms).toBeLessThan(2500);
  });
});

describe('comfyui connector: a prompt that goes quiet', () => {
  // One prompt at a time, as ComfyUI runs them: a second one waits, with no message of its own, in the queue.
  const server = serverFor({ fifo: true });

  it('a prompt deleted from the queue behind the job\'s back (ComfyUI sends no message) fails the job at the next check, retryable', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl, livenessCheckMs: 200, timeoutMs: 10_000 });
    const first = recordingContext();
    const firstRun = c.run(job({ workflow: workflow({ steps: 60, stepMs: 10 }) }), first);
    await sampled(first, 1);
    const ctx = recordingContext();
    const queued = timed(c.run(job({ workflow: workflow() }), ctx));
    await waitFor(() => ctx.progressed.some((p) => p.detail?.stage === 'queued'), { what: 'the prompt queued' });
    const promptId = lastPromptId(server.it);
    // The queue's "delete" in ComfyUI's UI: the prompt is gone, and only a `status` broadcast says anything.
    await fetch(`${server.it.baseUrl}/queue`, { method: 'POST', body: JSON.stringify({ delete: [promptId] }) });
    const { value, ms } = await queued;
    expect(value).toMatchObject({ type: 'PromptLostError', category: 'network', retryable: true, message: expect.stringContaining(promptId) });
    expect(ms).toBeLessThan(3000);
    await expect(firstRun).resolves.toMatchObject({ outputCount: 1 });
  });

  it('a prompt whose messages stop coming (half-open socket) is found finished in the history', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl, livenessCheckMs: 200, timeoutMs: 10_000 });
    const ctx = recordingContext();
    const running = timed(c.run(job({ workflow: workflow({ steps: 80, stepMs: 10 }), model: 'sdxl' }), ctx));
    await sampled(ctx, 2);
    const promptId = lastPromptId(server.it);
    server.it.silenceSocket(server.it.prompts.get(promptId)!.clientId);
    // It runs on for most of a second: the checks in between find it running and keep waiting.
    expect(await server.it.settled(promptId)).toBe('success');
    const { value, ms } = await running;
    expect(value).toMatchObject({ output: { promptId, files: [{ node: '9', type: 'output' }] }, outputCount: 1 });
    expect(ms).toBeLessThan(5000);
    expect(ctx.logs).toContainEqual(expect.stringContaining('reading it from the history'));
    expect(ctx.progressed.at(-1)!.percent).toBe(100);
    expect(gpuReports(ctx)).toHaveLength(1);
    expect(mergedUsage(ctx.usage).gpuSeconds).toBeGreaterThan(0);
  });

  it('a prompt that waits quietly in the queue is not given up on', async () => {
    const c = createComfyUiConnector({ baseUrl: server.it.baseUrl, livenessCheckMs: 100 });
    const first = recordingContext();
    const firstRun = c.run(job({ workflow: workflow({ steps: 50, stepMs: 10 }) }), first);
    await sampled(first, 1);
    const ctx = recordingContext();
    await expect(c.run(job({ workflow: workflow() }), ctx)).resolves.toMatchObject({ outputCount: 1 });
    await expect(firstRun).resolves.toMatchObject({ outputCount: 1 });
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
