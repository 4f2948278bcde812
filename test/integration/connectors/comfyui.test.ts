import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createComfyUiConnector } from '../../../connectors/comfyui.js';
import { startComfyUiServer, type ComfyUiServer } from '../../helpers/comfyui-server.js';
import { waitFor } from '../../helpers/redis.js';
import { mergedUsage, recordingContext } from './fake-context.js';

let server: ComfyUiServer;
beforeAll(async () => {
  server = await startComfyUiServer();
});
afterAll(() => server.close());

function workflow(sampler: Record<string, unknown> = {}) {
  return {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
    '3': { class_type: 'KSampler', inputs: { steps: 5, seed: 1, ...sampler } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'ComfyUI' } },
  };
}
const job = (data: Record<string, unknown>) => ({ id: 'img-1', name: 'txt2img', data, attempt: 1, queue: 'images' });

describe('comfyui connector', () => {
  it('queues the workflow, follows progress over the WebSocket, collects outputs, reports GPU-seconds', async () => {
    const c = createComfyUiConnector({ baseUrl: server.baseUrl });
    const ctx = recordingContext();
    const result = await c.run(job({ workflow: workflow(), model: 'sdxl' }), ctx);
    const [promptId, prompt] = [...server.prompts.entries()].at(-1)!;
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
    const c = createComfyUiConnector({ baseUrl: server.baseUrl });
    await expect(c.run(job({ workflow: workflow({ fail: 'oom' }) }), recordingContext())).rejects.toMatchObject({
      category: 'out_of_memory',
      message: expect.stringContaining('CUDA out of memory'),
    });
  });

  it('cancellation interrupts the prompt on the server', async () => {
    const c = createComfyUiConnector({ baseUrl: server.baseUrl });
    const ctx = recordingContext();
    const running = c.run(job({ workflow: workflow({ steps: 500, stepMs: 20 }) }), ctx).catch((e: unknown) => e);
    await waitFor(() => ctx.progressed.some((p) => p.detail?.step === 2), { what: 'sampling to start' });
    const reason = new Error('cancelled by test');
    ctx.controller.abort(reason);
    expect(await running).toBe(reason);
    await waitFor(() => server.interrupts > 0, { what: 'POST /interrupt' });
  });

  it('a workflow-less job is rejected without a request', async () => {
    const c = createComfyUiConnector({ baseUrl: server.baseUrl });
    await expect(c.run(job({}), recordingContext())).rejects.toMatchObject({ category: 'validation', retryable: false });
  });
});
