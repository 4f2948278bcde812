import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { loadPriceTable } from '../../../src/jobs/price-table.js';
import { createPricing } from '../../../src/jobs/pricing.js';

const dir = mkdtempSync(join(tmpdir(), 'jobscope-prices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('pricing', () => {
  const pricing = createPricing(loadPriceTable());

  it('prices tokens per 1M, cached input at the cached rate', () => {
    // gpt-4o: $2.50 in, $1.25 cached, $10 out.
    expect(pricing.price({ model: 'gpt-4o', inputTokens: 1_000_000, cachedTokens: 400_000, outputTokens: 100_000 })).toBeCloseTo(0.6 * 2.5 + 0.4 * 1.25 + 0.1 * 10, 9);
  });

  it('resolves dated, provider-prefixed and case-different model names to the longest matching entry', () => {
    expect(pricing.modelPrice('gpt-4o-2024-08-06')).toBe(pricing.modelPrice('gpt-4o'));
    expect(pricing.modelPrice('gpt-4o-mini-2024-07-18')).toBe(pricing.modelPrice('gpt-4o-mini'));
    expect(pricing.modelPrice('openai/GPT-4o-mini')).toBe(pricing.modelPrice('gpt-4o-mini'));
    expect(pricing.modelPrice('claude-sonnet-4-20250514')?.outputPerMTokUsd).toBe(15);
    expect(pricing.modelPrice('gpt-4oxyz')).toBeUndefined();
    expect(pricing.modelPrice('gpt-4-0613')).toBeUndefined(); // no gpt-4 in the table
    expect(pricing.modelPrice('claude-3-5-sonnet@20240620')).toBe(pricing.modelPrice('claude-3-5-sonnet'));
    expect(pricing.modelPrice('claude-3-7-sonnet-20250219-v1:0')).toBe(pricing.modelPrice('claude-3-7-sonnet'));
    expect(pricing.modelPrice('claude-3-5-haiku-latest')).toBe(pricing.modelPrice('claude-3-5-haiku'));
  });

  it('does not price a variant of a model as that model (another model, another price)', () => {
    // gpt-4.1-nano costs a fraction of gpt-4.1; priced as gpt-4.1 its cost would be 20x too high.
    for (const model of ['gpt-4.1-nano', 'gpt-4.1-nano-2025-04-14', 'gpt-4o-realtime-preview', 'gpt-4o-audio-preview-2024-12-17', 'o4-mini-deep-research']) {
      expect(pricing.modelPrice(model), model).toBeUndefined();
      expect(pricing.price({ model, inputTokens: 1_000_000, outputTokens: 1_000_000 }), model).toBeUndefined();
    }
  });

  it('prices GPU-seconds by the model GPU class, else the service GPU class', () => {
    expect(pricing.price({ model: 'flux-dev', gpuSeconds: 10 }, 'comfyui')).toBeCloseTo(10 * 0.001525, 12);
    expect(pricing.price({ gpuSeconds: 10 }, 'comfyui')).toBeCloseTo(10 * 0.000975, 12);
    expect(pricing.price({ gpuSeconds: 10 }, 'simulated')).toBeUndefined();
  });

  it('returns undefined when nothing is priced', () => {
    expect(pricing.price(undefined)).toBeUndefined();
    expect(pricing.price({ model: 'my-private-model', inputTokens: 10 })).toBeUndefined();
    expect(pricing.price({ model: 'gpt-4o' })).toBeUndefined();
  });

  it('merges a user price file over the defaults', () => {
    const user = file('ok.json', JSON.stringify({ models: { 'my-model': { inputPerMTokUsd: 1, outputPerMTokUsd: 2 }, 'gpt-4o': { outputPerMTokUsd: 20 } } }));
    const p = createPricing(loadPriceTable({ file: user }));
    expect(p.price({ model: 'my-model', inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBe(3);
    expect(p.modelPrice('gpt-4o')).toMatchObject({ inputPerMTokUsd: 2.5, outputPerMTokUsd: 20 });
    expect(p.modelPrice('gpt-4o-mini')?.inputPerMTokUsd).toBe(0.15);
  });

  it('a bad price file fails at start naming JOBSCOPE_PRICES_FILE', () => {
    const bad = file('bad.json', JSON.stringify({ models: { x: { inputPerMTokUsd: -1 } } }));
    expect(() => loadPriceTable({ file: bad })).toThrow(ConfigError);
    expect(() => loadPriceTable({ file: bad })).toThrow(/JOBSCOPE_PRICES_FILE.*models\.x\.inputPerMTokUsd/);
    expect(() => loadPriceTable({ file: file('nojson.json', '{') })).toThrow(/JOBSCOPE_PRICES_FILE/);
    expect(() => loadPriceTable({ file: join(dir, 'missing.json') })).toThrow(/JOBSCOPE_PRICES_FILE/);
  });

  it('a misspelled or misplaced key fails instead of leaving the shipped price in force', () => {
    // A field name that is not ours: without the check gpt-4o-mini would stay at $0.15 silently.
    const misspelled = file('misspelled.json', JSON.stringify({ models: { 'gpt-4o-mini': { inputPricePerMTok: 1 } } }));
    expect(() => loadPriceTable({ file: misspelled })).toThrow(/JOBSCOPE_PRICES_FILE.*at "models\.gpt-4o-mini".*inputPricePerMTok.*the keys there: provider, inputPerMTokUsd/);
    // Models at the top level, without the "models" wrapper.
    const unwrapped = file('unwrapped.json', JSON.stringify({ 'gpt-4o-mini': { inputPerMTokUsd: 1 } }));
    expect(() => loadPriceTable({ file: unwrapped })).toThrow(/at its top level.*gpt-4o-mini.*the keys there: .*models/);
    const service = file('service.json', JSON.stringify({ services: { comfyui: { gpu: 'a100' } } }));
    expect(() => loadPriceTable({ file: service })).toThrow(/at "services\.comfyui".*gpu.*the keys there: gpuClass/);
  });

  it("a model's fields are merged one by one: what the file leaves out keeps the shipped value", () => {
    const user = file('partial.json', JSON.stringify({ $comment: 'ours', models: { 'gpt-4o-mini': { inputPerMTokUsd: 1, outputPerMTokUsd: 2 } } }));
    expect(createPricing(loadPriceTable({ file: user })).modelPrice('gpt-4o-mini')).toMatchObject({ inputPerMTokUsd: 1, outputPerMTokUsd: 2, cachedInputPerMTokUsd: 0.075 });
  });

  it('the shipped table is dated', () => {
    expect(loadPriceTable().asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
