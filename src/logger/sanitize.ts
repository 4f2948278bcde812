import { MAX_ATTRS, MAX_MESSAGE_CHARS, type AiUsage, type Attrs } from '../events/index.js';

/**
 * Cheap, hand-written checks of what job code passes to a logger call, against the bounds of
 * the event schema (src/events/schema.ts). Running zod on every call would cost more than the
 * log line itself; these checks make the event valid by construction instead.
 *
 * The rule (documented on ConnectorLogger): a bad optional value is left out, a too-long string
 * is cut to its limit, and each problem is appended to `issues` so the caller counts the call
 * as invalid and reports it. Only a bad required value (e.g. progress `'abc'`) drops the event.
 */

/** Collected problems of one call, as `field: what is wrong`. */
export type Issues = string[];

const MAX_ATTR_KEY = 64;
const MAX_ATTR_STRING = 4096;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function badAttrValue(v: unknown): boolean {
  const t = typeof v;
  if (t === 'string') return (v as string).length > MAX_ATTR_STRING;
  if (t === 'number') return !Number.isFinite(v);
  return !(t === 'boolean' || v === null);
}

/** Free-form attributes: an object of at most 64 scalar values. */
export function cleanAttrs(value: unknown, issues: Issues, field = 'attrs'): Attrs | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    issues.push(`${field}: must be an object of scalars, got ${describe(value)}`);
    return undefined;
  }
  let count = 0;
  let clean = true;
  for (const k in value) {
    count++;
    // Anything unusual (an empty or long key, `__proto__`, an inherited property, a bad value) is sorted out by rebuildAttrs.
    if (k.length === 0 || k.length > MAX_ATTR_KEY || k === '__proto__' || !Object.hasOwn(value, k) || badAttrValue(value[k])) {
      clean = false;
      break;
    }
  }
  if (clean && count <= MAX_ATTRS) return count === 0 ? undefined : (value as Attrs);
  return rebuildAttrs(value, issues, field);
}

function rebuildAttrs(value: Record<string, unknown>, issues: Issues, field: string): Attrs | undefined {
  const out: Attrs = {};
  let kept = 0;
  for (const k of Object.keys(value)) {
    const v = value[k];
    if (kept >= MAX_ATTRS) {
      issues.push(`${field}: more than ${MAX_ATTRS} keys, the rest left out`);
      break;
    }
    if (k.length === 0 || k.length > MAX_ATTR_KEY) {
      issues.push(`${field}: key "${k.slice(0, 40)}" must be 1-${MAX_ATTR_KEY} characters, left out`);
    } else if (k === '__proto__') {
      // Written, it would be lost when the event is read (an object's prototype, not a key).
      issues.push(`${field}: key "__proto__" is not allowed, left out`);
    } else if (typeof v === 'string') {
      if (v.length > MAX_ATTR_STRING) issues.push(`${field}.${k}: longer than ${MAX_ATTR_STRING} characters, cut`);
      out[k] = v.slice(0, MAX_ATTR_STRING);
      kept++;
    } else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean' || v === null) {
      out[k] = v;
      kept++;
    } else {
      issues.push(`${field}.${k}: must be a string, finite number, boolean or null, got ${describe(v)}; left out`);
    }
  }
  return kept === 0 ? undefined : out;
}

/** A message: a string, cut at the schema's limit; anything else is turned into a string. */
export function cleanMessage(value: unknown, issues: Issues, field = 'message'): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    issues.push(`${field}: must be a string, got ${describe(value)}`);
    if (value === null || typeof value === 'object' || typeof value === 'function') return undefined;
    value = String(value);
  }
  const s = value as string;
  if (s.length > MAX_MESSAGE_CHARS) {
    issues.push(`${field}: longer than ${MAX_MESSAGE_CHARS} characters, cut`);
    return s.slice(0, MAX_MESSAGE_CHARS);
  }
  return s;
}

/** An optional bounded string (1..max characters); empty or non-string values are left out. */
export function cleanText(value: unknown, max: number, issues: Issues, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    issues.push(`${field}: must be a non-empty string, got ${describe(value)}; left out`);
    return undefined;
  }
  if (value.length > max) {
    issues.push(`${field}: longer than ${max} characters, cut`);
    return value.slice(0, max);
  }
  return value;
}

/** Numeric rules the schema applies. */
export type NumberRule = 'nonNeg' | 'nonNegInt' | 'int' | 'positiveInt';

function fits(value: number, rule: NumberRule): boolean {
  if (!Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) return false;
  switch (rule) {
    case 'nonNeg':
      return value >= 0;
    case 'nonNegInt':
      return value >= 0 && Number.isInteger(value);
    case 'int':
      return Number.isInteger(value);
    case 'positiveInt':
      return value > 0 && Number.isInteger(value);
  }
}

/** An optional number under `rule`; a value that breaks it is left out and reported. */
export function cleanNumber(value: unknown, rule: NumberRule, issues: Issues, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && fits(value, rule)) return value;
  issues.push(`${field}: must be a ${ruleText(rule)}, got ${describe(value)}; left out`);
  return undefined;
}

function ruleText(rule: NumberRule): string {
  return { nonNeg: 'non-negative number', nonNegInt: 'non-negative integer', int: 'integer', positiveInt: 'positive integer' }[rule];
}

/** The fields of a call's options object; a non-object is reported and treated as empty. */
export function cleanFields<T extends object>(value: T | undefined, issues: Issues): Partial<T> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    issues.push(`fields: must be an object, got ${describe(value)}; ignored`);
    return {};
  }
  return value;
}

const AI_TEXT: Record<string, number> = { model: 256, provider: 64, operation: 64 };
const AI_INT = ['inputTokens', 'outputTokens', 'cachedTokens', 'reasoningTokens'] as const;
const AI_NUM = ['timeToFirstTokenMs', 'gpuSeconds', 'costUsd'] as const;

/** AI usage: known keys only, each checked against the schema. */
export function cleanAi(value: unknown, issues: Issues, field = 'ai'): AiUsage | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    issues.push(`${field}: must be an object, got ${describe(value)}; left out`);
    return undefined;
  }
  const out: AiUsage = {};
  for (const k of Object.keys(value)) {
    const v = value[k];
    if (v === undefined) continue;
    if (k in AI_TEXT) {
      const s = cleanText(v, AI_TEXT[k]!, issues, `${field}.${k}`);
      if (s !== undefined) out[k as 'model'] = s;
    } else if ((AI_INT as readonly string[]).includes(k)) {
      const n = cleanNumber(v, 'nonNegInt', issues, `${field}.${k}`);
      if (n !== undefined) out[k as 'inputTokens'] = n;
    } else if ((AI_NUM as readonly string[]).includes(k)) {
      const n = cleanNumber(v, 'nonNeg', issues, `${field}.${k}`);
      if (n !== undefined) out[k as 'costUsd'] = n;
    } else {
      issues.push(`${field}.${k.slice(0, 40)}: unknown usage field; left out`);
    }
  }
  return out;
}

/**
 * Merges usage into an attempt's running total: token counts, GPU seconds and cost add up;
 * model, provider and operation take the latest value; time to first token keeps the first.
 */
export function mergeUsage(total: AiUsage | undefined, add: AiUsage): AiUsage {
  const out: AiUsage = { ...total };
  for (const k of Object.keys(add) as (keyof AiUsage)[]) {
    const v = add[k];
    if (v === undefined) continue;
    if (k === 'model' || k === 'provider' || k === 'operation') out[k] = v as string;
    else if (k === 'timeToFirstTokenMs') out[k] ??= v as number;
    else out[k] = Math.min(((out[k] as number | undefined) ?? 0) + (v as number), Number.MAX_SAFE_INTEGER);
  }
  return out;
}
