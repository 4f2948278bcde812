import { ConfigError } from '../errors.js';
import type { ScrubberOptions } from '../sinks/scrub/scrubber.js';
import { boolVar, listVar, optionalStringVar, readEnv, type Env } from './env-schema.js';

/** How PII is scrubbed from events before they reach Fluentd, OpenTelemetry and Sentry. */
export interface ScrubConfig extends Required<Pick<ScrubberOptions, 'fields' | 'useDefaults'>> {
  /** `SCRUB_PATTERNS`, compiled (global flag). */
  patterns: RegExp[];
}

/**
 * Splits a comma-separated list of regexes. A comma inside `{...}`, `[...]` or `(...)`, or escaped
 * as `\,`, belongs to the regex, so `[a-z]{2,}` stays whole.
 */
export function splitPatternList(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      const next = text[i + 1]!;
      current += next === ',' ? ',' : ch + next;
      i++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if ((ch === ')' || ch === ']' || ch === '}') && depth > 0) depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Reads {@link ScrubConfig}:
 * - `SCRUB_FIELDS`: extra field names to redact, comma-separated (default none);
 * - `SCRUB_PATTERNS`: extra value regexes, comma-separated (default none); a bad one fails here,
 *   naming the variable and the pattern;
 * - `SCRUB_DEFAULTS`: keep the built-in fields and patterns (emails, bearer tokens, API keys,
 *   JWTs), default true.
 */
export function loadScrubConfig(env: Env): ScrubConfig {
  const v = readEnv(
    { SCRUB_FIELDS: listVar([]), SCRUB_PATTERNS: optionalStringVar(), SCRUB_DEFAULTS: boolVar(true) },
    env,
  );
  const patterns = splitPatternList(v.SCRUB_PATTERNS ?? '').map((source) => {
    try {
      return new RegExp(source, 'g');
    } catch (err) {
      throw new ConfigError('SCRUB_PATTERNS', `"${source.slice(0, 80)}" is not a valid regex (${(err as Error).message})`);
    }
  });
  return { fields: v.SCRUB_FIELDS, patterns, useDefaults: v.SCRUB_DEFAULTS };
}
