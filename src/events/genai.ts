import type { AiUsage } from './schema.js';

/**
 * Maps Jobscope's AI usage fields onto the OpenTelemetry GenAI semantic-convention attribute
 * names, so traces, logs and metrics use the names other GenAI tooling already understands.
 */
export const GENAI_ATTRIBUTES: Record<keyof AiUsage, string> = {
  model: 'gen_ai.request.model',
  provider: 'gen_ai.provider.name',
  operation: 'gen_ai.operation.name',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cachedTokens: 'gen_ai.usage.cache_read.input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
  timeToFirstTokenMs: 'jobscope.ai.time_to_first_token_ms',
  gpuSeconds: 'jobscope.ai.gpu_seconds',
  costUsd: 'jobscope.ai.cost_usd',
};

/** The usage block as a flat record of GenAI attribute names. */
export function genAiAttributes(usage: AiUsage | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (!usage) return out;
  for (const [key, value] of Object.entries(usage)) {
    if (value !== undefined) out[GENAI_ATTRIBUTES[key as keyof AiUsage]] = value;
  }
  return out;
}
