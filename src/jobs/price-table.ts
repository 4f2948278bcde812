import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * The price table: USD per 1M tokens per model, USD per GPU-second per GPU class, and the GPU
 * class each service runs on. The defaults ship as `prices.json` at the package root; a user
 * file (`JOBSCOPE_PRICES_FILE`) is merged over them: a model's fields one by one (a field the
 * file leaves out keeps the shipped value), GPU classes and services whole.
 */

const usd = z.number().nonnegative().max(1_000_000);

/** One model's prices. Strict, as the table is: a misspelled key fails instead of leaving the shipped price in force. */
export const modelPriceSchema = z.strictObject({
  provider: z.string().max(64).optional(),
  /** USD per 1M input tokens (cache misses). */
  inputPerMTokUsd: usd.optional(),
  /** USD per 1M output tokens (reasoning tokens included). */
  outputPerMTokUsd: usd.optional(),
  /** USD per 1M cached input tokens; default: the input price. */
  cachedInputPerMTokUsd: usd.optional(),
  /** GPU class this model runs on, for GPU-second pricing. */
  gpuClass: z.string().max(64).optional(),
});
export type ModelPrice = z.infer<typeof modelPriceSchema>;

const serviceSchema = z.strictObject({ gpuClass: z.string().min(1).max(64) });

export const priceTableSchema = z.strictObject({
  $comment: z.string().optional(),
  /** The date the prices were checked (YYYY-MM-DD). */
  asOf: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD').optional(),
  currency: z.literal('USD').optional(),
  sources: z.array(z.string()).max(100).optional(),
  models: z.record(z.string().min(1).max(256), modelPriceSchema).default({}),
  gpuPerSecondUsd: z.record(z.string().min(1).max(64), usd).default({}),
  services: z.record(z.string().min(1).max(64), serviceSchema).default({}),
});
export type PriceTable = z.infer<typeof priceTableSchema>;

/** Where the shipped `prices.json` is: the nearest one above this module (src/ and dist/src/ alike). */
export function defaultPricesPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'prices.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new ConfigError('prices.json', 'the default price table was not found next to the package; reinstall Jobscope');
}

/** Reads and validates a price file; a bad one throws a {@link ConfigError} naming `variable`. */
export function readPriceFile(path: string, variable: string): PriceTable {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(variable, `must name a readable JSON price file (${path}: ${(err as Error).message.slice(0, 200)})`);
  }
  const r = priceTableSchema.safeParse(raw);
  if (!r.success) {
    // A misspelled key first: it is usually also why a required one is missing.
    const issue = r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0]!;
    const where = issue.path.length > 0 ? `at "${issue.path.join('.')}"` : 'at its top level';
    const known = issue.code === 'unrecognized_keys' ? ` (the keys there: ${knownKeys(issue.path).join(', ')})` : '';
    throw new ConfigError(variable, `price file ${path} is invalid ${where}: ${issue.message}${known}`);
  }
  return r.data;
}

/** The keys a price file may have at `path` (for an unrecognized key's message). */
function knownKeys(path: readonly PropertyKey[]): string[] {
  const schema = path.length === 0 ? priceTableSchema : path[0] === 'models' ? modelPriceSchema : serviceSchema;
  return Object.keys(schema.shape);
}

/** `override` merged over `base`: per model (field by field), per GPU class, per service. */
export function mergePriceTables(base: PriceTable, override: PriceTable): PriceTable {
  const models: Record<string, ModelPrice> = { ...base.models };
  for (const [name, price] of Object.entries(override.models)) models[name] = { ...models[name], ...price };
  return {
    ...base,
    ...(override.asOf ? { asOf: override.asOf } : {}),
    models,
    gpuPerSecondUsd: { ...base.gpuPerSecondUsd, ...override.gpuPerSecondUsd },
    services: { ...base.services, ...override.services },
  };
}

/** Options of {@link loadPriceTable}. */
export interface LoadPriceTableOptions {
  /** A user price file merged over the defaults (`JOBSCOPE_PRICES_FILE`). */
  file?: string;
  /** The defaults file. Default: the shipped `prices.json`. */
  defaultsFile?: string;
}

/** The shipped prices with the user's file merged over them. Throws a ConfigError on a bad file. */
export function loadPriceTable(options: LoadPriceTableOptions = {}): PriceTable {
  const defaults = readPriceFile(options.defaultsFile ?? defaultPricesPath(), 'prices.json');
  return options.file ? mergePriceTables(defaults, readPriceFile(options.file, 'JOBSCOPE_PRICES_FILE')) : defaults;
}
