import { describe, expect, it } from 'vitest';
import { loadPipelineConfig } from '../../../src/config/pipeline-config.js';
import { ConfigError } from '../../../src/errors.js';
import { registerBuiltinSinks } from '../../../src/pipeline/builtin-sinks.js';
import { createSinksFromConfig } from '../../../src/pipeline/sink-registry.js';
import { defaultConsumerName } from '../../../src/pipeline/consumer-name.js';

describe('loadPipelineConfig', () => {
  it('has the documented defaults', () => {
    const c = loadPipelineConfig({});
    expect(c).toMatchObject({
      sinks: ['status', 'metrics', 'sequence'], batchSize: 200, blockMs: 1000, maxDeliveries: 5, claimIdleMs: 30000,
      retry: { baseMs: 200, maxMs: 30000 }, breaker: { failureThreshold: 5, openMs: 10000 },
      shutdownTimeoutMs: 10000, trim: {}, metricsPort: 9464,
    });
    expect(c.consumerName).toBeUndefined();
  });
  it('reads the variables and names a bad one', () => {
    const c = loadPipelineConfig({ JOBSCOPE_SINKS: 'null, status', STREAM_MAX_LEN: '1000', METRICS_PORT: '0', PIPELINE_CONSUMER_NAME: 'replica-1' });
    expect(c.sinks).toEqual(['null', 'status']);
    expect(c.trim).toEqual({ maxLength: 1000 });
    expect(c.metricsPort).toBe(0);
    expect(c.consumerName).toBe('replica-1');
    expect(() => loadPipelineConfig({ PIPELINE_BATCH_SIZE: 'lots' })).toThrow(/PIPELINE_BATCH_SIZE/);
  });
});

describe('sink registry', () => {
  it('builds registered sinks and names the unknown ones', async () => {
    registerBuiltinSinks();
    const deps = { env: {}, redis: undefined as never, prefix: 'p', metricsRegistry: undefined as never, logger: undefined as never };
    const [sink] = await createSinksFromConfig(['null'], deps);
    expect(sink!.name).toBe('null');
    await expect(createSinksFromConfig(['null', 'nope'], deps)).rejects.toThrow(ConfigError);
    await expect(createSinksFromConfig(['nope'], deps)).rejects.toThrow(/unknown sink "nope"; known sinks: .*null/);
  });
  it('consumer names are unique per process', () => {
    expect(defaultConsumerName('my host', 42)).toMatch(/^my-host-42-[0-9a-f]{6}$/);
    expect(defaultConsumerName('h', 1)).not.toBe(defaultConsumerName('h', 1));
  });
});
