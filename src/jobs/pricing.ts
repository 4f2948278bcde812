import type { AiUsage } from '../events/index.js';
import type { ModelPrice, PriceTable } from './price-table.js';

/**
 * Turns AI usage into US dollars at event time, so every consumer (status store, metrics,
 * traces) reads one agreed figure from the event's `ai.costUsd` instead of pricing it again.
 *
 * Tokens: (input − cached) × input price + cached × cached price + output × output price, per
 * million; OpenAI-style counts are assumed (cached ⊂ input, reasoning ⊂ output). GPU time:
 * gpuSeconds × the price of the model's GPU class, else the service's.
 */

/** Prices usage; `undefined` when nothing in it has a price. */
export interface Pricing {
  price(usage: AiUsage | undefined, serviceType?: string): number | undefined;
  /** The price entry a model name resolves to, if any. */
  modelPrice(model: string): ModelPrice | undefined;
}

/** Creates a pricing function over a table. Model lookups are memoized (bounded). */
export function createPricing(table: PriceTable, maxCachedModels = 1024): Pricing {
  const cache = new Map<string, ModelPrice | undefined>();

  function modelPrice(model: string): ModelPrice | undefined {
    if (cache.has(model)) return cache.get(model);
    const found = lookupModel(table, model);
    if (cache.size >= maxCachedModels) cache.clear();
    cache.set(model, found);
    return found;
  }

  function price(usage: AiUsage | undefined, serviceType?: string): number | undefined {
    if (!usage) return undefined;
    const m = usage.model !== undefined ? modelPrice(usage.model) : undefined;
    let total: number | undefined;
    const tokens = tokenCost(m, usage);
    if (tokens !== undefined) total = tokens;
    if (usage.gpuSeconds !== undefined) {
      const gpuClass = m?.gpuClass ?? (serviceType !== undefined ? table.services[serviceType]?.gpuClass : undefined);
      const perSecond = gpuClass !== undefined ? table.gpuPerSecondUsd[gpuClass] : undefined;
      if (perSecond !== undefined) total = (total ?? 0) + usage.gpuSeconds * perSecond;
    }
    // Micro-dollar noise from float sums is not information.
    return total === undefined ? undefined : Math.round(total * 1e10) / 1e10;
  }

  return { price, modelPrice };
}

function tokenCost(m: ModelPrice | undefined, u: AiUsage): number | undefined {
  if (!m || (m.inputPerMTokUsd === undefined && m.outputPerMTokUsd === undefined)) return undefined;
  if (u.inputTokens === undefined && u.outputTokens === undefined) return undefined;
  const input = u.inputTokens ?? 0;
  const cached = Math.min(u.cachedTokens ?? 0, input);
  const inPrice = m.inputPerMTokUsd ?? 0;
  const cachedPrice = m.cachedInputPerMTokUsd ?? inPrice;
  return ((input - cached) * inPrice + cached * cachedPrice + (u.outputTokens ?? 0) * (m.outputPerMTokUsd ?? 0)) / 1e6;
}

/**
 * What may follow a table name in a model's name for the model to get that name's prices: a
 * dated snapshot (`-2024-08-06`, `-20250514`, `-0613`, `@20240620`), `-latest`, with an optional
 * `-v2:0` version after it, or a bare version (`-v2`, `:0`). Any other suffix names another model
 * (`gpt-4.1-nano` is not `gpt-4.1`, `gpt-4o-realtime-preview` is not `gpt-4o`), priced
 * differently: it gets no price rather than a wrong one.
 */
const SNAPSHOT_SUFFIX = /^(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|\d{6}|\d{4}|latest)(?:-v\d+(?::\d+)?)?|-v\d+(?::\d+)?|:\d+)$/;

/**
 * Finds a model's prices: exact name, then case-insensitive, then without a `provider/`
 * prefix, then a table name followed by a snapshot suffix only ({@link SNAPSHOT_SUFFIX}: so
 * `gpt-4o-2024-08-06` is `gpt-4o` and `gpt-4o-mini-2024-07-18` is `gpt-4o-mini`).
 */
export function lookupModel(table: PriceTable, model: string): ModelPrice | undefined {
  if (table.models[model]) return table.models[model];
  const lower = model.toLowerCase();
  const bare = lower.includes('/') ? lower.slice(lower.lastIndexOf('/') + 1) : lower;
  let best: string | undefined;
  for (const name of Object.keys(table.models)) {
    const n = name.toLowerCase();
    if (n === lower || n === bare) return table.models[name];
    if (bare.startsWith(n) && SNAPSHOT_SUFFIX.test(bare.slice(n.length)) && (!best || n.length > best.length)) best = name;
  }
  return best !== undefined ? table.models[best] : undefined;
}
