import type { ErrorCategory, ErrorInfo } from './schema.js';
import { MAX_MESSAGE_CHARS, MAX_STACK_CHARS } from './schema.js';

/** What `jobFailed` accepts: a thrown value, or a description of the error. */
export type ErrorInput =
  | Error
  | { type?: string; name?: string; message?: string; stack?: string; code?: string | number; category?: ErrorCategory }
  | string;

// Order matters: the first rule that matches wins (a cancelled timeout is `cancelled`).
const RULES: [ErrorCategory, RegExp][] = [
  ['cancelled', /\b(abort(ed)?|cancel(l)?ed|AbortError)\b/i],
  ['out_of_memory', /\b(out of memory|OOM|CUDA out of memory|ENOMEM|heap out of memory|allocation failed|RangeError: Array buffer allocation)\b/i],
  ['rate_limit', /\b(rate.?limit(ed)?|too many requests|429|quota exceeded|throttl(ed|ing))\b/i],
  ['timeout', /\b(time(d)?.?out|ETIMEDOUT|ESOCKETTIMEDOUT|deadline exceeded|TimeoutError)\b/i],
  ['network', /\b(ECONNREFUSED|ECONNRESET|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|socket hang up|network|fetch failed|connection (refused|reset|closed))\b/i],
  ['validation', /\b(validation|invalid|ZodError|ValidationError|bad request|400|schema|malformed|required)\b/i],
  ['model', /\b(model|inference|content.?filter|context length|token limit|safety|nsfw|checkpoint|lora|sampler|prompt)\b/i],
];

/** Classifies a failure by its type, code and message. */
export function classifyError(type: string, message: string, code?: string): ErrorCategory {
  const text = `${type} ${code ?? ''} ${message}`;
  for (const [category, pattern] of RULES) if (pattern.test(text)) return category;
  return 'unknown';
}

/** Normalizes anything thrown into the event's error block, bounded and classified. */
export function toErrorInfo(input: unknown): ErrorInfo {
  let type = 'Error';
  let message = '';
  let stack: string | undefined;
  let code: string | undefined;
  let category: ErrorCategory | undefined;
  if (typeof input === 'string') {
    message = input;
  } else if (input !== null && typeof input === 'object') {
    const e = input as Record<string, unknown>;
    const t = e.type ?? e.name ?? (input instanceof Error ? input.constructor.name : undefined);
    if (typeof t === 'string' && t.length > 0) type = t;
    if (typeof e.message === 'string') message = e.message;
    if (typeof e.stack === 'string') stack = e.stack;
    if (typeof e.code === 'string' || typeof e.code === 'number') code = String(e.code);
    if (typeof e.category === 'string') category = e.category as ErrorCategory;
  } else if (input !== undefined) {
    message = String(input);
  }
  const info: ErrorInfo = {
    type: type.slice(0, 128),
    category: category ?? classifyError(type, message, code),
    message: message.slice(0, MAX_MESSAGE_CHARS),
  };
  if (stack !== undefined) info.stack = stack.slice(0, MAX_STACK_CHARS);
  if (code !== undefined && code.length > 0) info.code = code.slice(0, 128);
  return info;
}
