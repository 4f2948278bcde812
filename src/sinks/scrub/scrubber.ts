import type { JobscopeEvent } from '../../events/index.js';
import { DEFAULT_SCRUB_FIELDS, DEFAULT_SCRUB_PATTERNS, REDACTED } from './default-rules.js';

/** Options of {@link createScrubber}. */
export interface ScrubberOptions {
  /**
   * Field names whose values are replaced by `[REDACTED]`, wherever they appear as a key in an
   * event's `data` or `attrs` (matched case-insensitively, ignoring `_`, `-`, `.` and spaces; a
   * key that ends with a field name matches too, e.g. `access_token`, `X-Api-Key`). They are also
   * redacted in `name=value` / `name: value` text inside strings. Added to the defaults.
   */
  fields?: readonly string[];
  /** Value patterns redacted inside every string of `message`, `data` and `attrs`. Added to the defaults. */
  patterns?: readonly (RegExp | string)[];
  /** Include {@link DEFAULT_SCRUB_FIELDS} and {@link DEFAULT_SCRUB_PATTERNS}. Default true. */
  useDefaults?: boolean;
  /**
   * Longest string scanned, in characters; a longer one is cut to this length first, so one
   * event costs bounded work. Default 65,536 (above every string bound of the event schema).
   */
  maxStringChars?: number;
  /** Deepest nesting walked; anything deeper is replaced whole by `[REDACTED]`. Default 8. */
  maxDepth?: number;
}

/** Counters of what a scrubber did since it was created. */
export interface ScrubberStats {
  /** Events passed through {@link Scrubber.scrub}. */
  events: number;
  /** Values replaced (whole field values and pattern matches inside strings). */
  redactions: number;
  /** Strings cut to `maxStringChars` before scanning. */
  truncatedStrings: number;
}

/** Removes personal data and credentials from events before they leave for a backend. */
export interface Scrubber {
  /** A scrubbed deep copy of `event`; the input is never modified. Ids, identity and trace are kept. */
  scrub(event: JobscopeEvent): JobscopeEvent;
  /** `text` with every pattern match and `name=value` secret redacted. */
  scrubString(text: string): string;
  /** A scrubbed deep copy of any JSON-like value (objects, arrays, strings, numbers). */
  scrubValue(value: unknown): unknown;
  stats(): ScrubberStats;
}

/** Lower-case with separators removed: `X-Api-Key` and `api_key` both become `xapikey` / `apikey`. */
function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[\s_.-]/g, '');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `password=hunter2`, `"api_key": "abc"`, `token: xyz` inside free text. */
function keyValuePattern(fields: readonly string[]): RegExp | undefined {
  if (fields.length === 0) return undefined;
  const names = fields.map((f) =>
    f
      .split(/[\s_.-]+/)
      .filter((w) => w.length > 0)
      .map(escapeRegex)
      .join('[\\s_.-]?'),
  );
  return new RegExp(`((?<![A-Za-z0-9])(?:${names.join('|')})["']?\\s*[=:]\\s*["']?)((?:bearer|basic|token|digest)\\s+)?([^\\s"'&,;{}]+)`, 'gi');
}

function toGlobal(pattern: RegExp | string): RegExp {
  if (typeof pattern === 'string') return new RegExp(pattern, 'g');
  return pattern.flags.includes('g') ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
}

/**
 * Creates a {@link Scrubber}. Patterns are compiled once here; an invalid pattern string throws a
 * `SyntaxError` naming it (use `loadScrubConfig` to turn that into a configuration error at start).
 */
export function createScrubber(options: ScrubberOptions = {}): Scrubber {
  const useDefaults = options.useDefaults ?? true;
  const maxStringChars = options.maxStringChars ?? 65_536;
  const maxDepth = options.maxDepth ?? 8;
  const fieldList = [...(useDefaults ? DEFAULT_SCRUB_FIELDS : []), ...(options.fields ?? [])];
  const fields = new Set(fieldList.map(normalizeKey).filter((f) => f.length > 0));
  const patterns = [...(useDefaults ? DEFAULT_SCRUB_PATTERNS : []), ...(options.patterns ?? [])].map(toGlobal);
  const kvPattern = keyValuePattern(fieldList);
  const stats: ScrubberStats = { events: 0, redactions: 0, truncatedStrings: 0 };

  const isSecretKey = (key: string, value: unknown): boolean => {
    const k = normalizeKey(key);
    if (fields.has(k)) return true;
    if (typeof value !== 'string') return false;
    for (const f of fields) if (k.endsWith(f)) return true;
    return false;
  };

  const scrubString = (input: string): string => {
    let text = input;
    if (text.length > maxStringChars) {
      text = text.slice(0, maxStringChars);
      stats.truncatedStrings++;
    }
    if (kvPattern) {
      text = text.replace(kvPattern, (_m, prefix: string) => {
        stats.redactions++;
        return `${prefix}${REDACTED}`;
      });
    }
    for (const pattern of patterns) {
      pattern.lastIndex = 0;
      text = text.replace(pattern, (match) => {
        if (match === REDACTED) return match;
        stats.redactions++;
        return REDACTED;
      });
    }
    return text;
  };

  const walk = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') return scrubString(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth >= maxDepth) {
      stats.redactions++;
      return REDACTED;
    }
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== null && v !== undefined && isSecretKey(key, v)) {
        stats.redactions++;
        out[key] = REDACTED;
      } else {
        out[key] = walk(v, depth + 1);
      }
    }
    return out;
  };

  return {
    scrub(event) {
      stats.events++;
      // Only free-form parts are scrubbed: ids, identity, trace and usage must stay exact because
      // they are keys (idempotency, status store, trace links, metric labels).
      const copy = structuredClone(event) as JobscopeEvent & Record<string, unknown>;
      if (copy.message !== undefined) copy.message = scrubString(copy.message);
      copy.data = walk(copy.data, 0) as never;
      if (copy.attrs !== undefined) copy.attrs = walk(copy.attrs, 0) as never;
      return copy;
    },
    scrubString,
    scrubValue: (value) => walk(value, 0),
    stats: () => ({ ...stats }),
  };
}
