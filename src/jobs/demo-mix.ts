import type { JobsOptions } from 'bullmq';
import { between, type Random } from '../../connectors/seeded-random.js';
import type { SimulateDirective } from '../../connectors/simulated.js';

/**
 * The demo's job mix: image jobs (ComfyUI-like: GPU-seconds, progress per sampling step, an
 * occasional CUDA OOM) and chat jobs (LLM-like: several models and token counts, rate limits,
 * bad requests), with retries and backoff, a few slow jobs and the odd stuck one.
 */

/** The demo queues and the service each pretends to be. */
export const DEMO_QUEUES = { images: 'demo-images', chat: 'demo-chat' } as const;
/** Service type of each demo queue's workers. */
export const DEMO_SERVICES: Record<string, string> = { [DEMO_QUEUES.images]: 'comfyui', [DEMO_QUEUES.chat]: 'openai' };

/** One job the demo enqueues. */
export interface DemoJob {
  queue: string;
  name: string;
  data: { simulate: SimulateDirective; prompt: string };
  opts: JobsOptions;
}

const IMAGE_MODELS = ['sdxl', 'sdxl', 'flux-schnell', 'flux-dev'];
const CHAT_MODELS: [string, string][] = [
  ['gpt-4o-mini', 'openai'],
  ['gpt-4o-mini', 'openai'],
  ['gpt-4o', 'openai'],
  ['claude-sonnet-4', 'anthropic'],
  ['llama-3.1-8b-instruct', 'together'],
];
const PROMPTS = ['a lighthouse at dawn', 'summarize this support ticket', 'a corgi astronaut', 'translate to French', 'write a haiku about queues'];
// Finished jobs stay in BullMQ for inspection, but bounded.
const KEEP = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };

/** Draws the next demo job. */
export function nextDemoJob(random: Random): DemoJob {
  const roll = random();
  const prompt = PROMPTS[Math.floor(random() * PROMPTS.length)]!;
  const slow = random() < 0.05;
  const stuck = random() < 0.005;
  if (roll < 0.4) {
    const model = IMAGE_MODELS[Math.floor(random() * IMAGE_MODELS.length)]!;
    const fail = random() < 0.08 ? 'oom' : random() < 0.03 ? 'model' : undefined;
    const simulate: SimulateDirective = { model, provider: 'comfyui', gpuSeconds: true, steps: 20, latencyMs: slow ? 30_000 : between(random, 1500, 6000), ...(stuck ? { stuck } : {}) };
    if (fail) Object.assign(simulate, { fail, failAttempts: random() < 0.5 ? 1 : undefined });
    return { queue: DEMO_QUEUES.images, name: 'txt2img', data: { simulate, prompt }, opts: { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, ...KEEP } };
  }
  const [model, provider] = CHAT_MODELS[Math.floor(random() * CHAT_MODELS.length)]!;
  const fail = random() < 0.1 ? 'rate_limit' : random() < 0.04 ? 'validation' : random() < 0.03 ? 'network' : undefined;
  const simulate: SimulateDirective = {
    model,
    provider,
    steps: 5,
    inputTokens: between(random, 200, 6000),
    outputTokens: between(random, 50, 1200),
    latencyMs: slow ? 20_000 : between(random, 400, 3000),
    ...(stuck ? { stuck } : {}),
  };
  if (fail) Object.assign(simulate, { fail, failAttempts: fail === 'validation' ? undefined : between(random, 1, 2) });
  return { queue: DEMO_QUEUES.chat, name: 'chat', data: { simulate, prompt }, opts: { attempts: 3, backoff: { type: 'fixed', delay: 1000 }, ...KEEP } };
}
