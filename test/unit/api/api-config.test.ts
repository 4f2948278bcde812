import { describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../../src/config/api-config.js';
import { ConfigError } from '../../../src/errors.js';

const TOKEN = 'a-long-enough-token-123';

describe('loadApiConfig', () => {
  it('refuses to start with neither a token nor anonymous access, saying what to set', () => {
    expect(() => loadApiConfig({})).toThrow(ConfigError);
    expect(() => loadApiConfig({})).toThrow(/JOBSCOPE_API_TOKEN.*JOBSCOPE_API_ALLOW_ANONYMOUS=true/);
    expect(loadApiConfig({ JOBSCOPE_API_ALLOW_ANONYMOUS: 'true' }).allowAnonymous).toBe(true);
  });

  it('has the documented defaults', () => {
    expect(loadApiConfig({ JOBSCOPE_API_TOKEN: TOKEN })).toMatchObject({
      port: 3000, host: '0.0.0.0', token: TOKEN, allowAnonymous: false, stuckThresholdMs: 600_000,
      queueWaitThresholdMs: 300_000, sseKeepAliveMs: 15_000, stuckThresholdsByService: {},
    });
  });

  it('reads per-service stuck thresholds from the list and from per-service variables', () => {
    const c = loadApiConfig({ JOBSCOPE_API_TOKEN: TOKEN, STUCK_THRESHOLDS: 'comfyui=600000, openai=120000', STUCK_THRESHOLD_RUNPOD_MS: '90000' });
    expect(c.stuckThresholdsByService).toEqual({ comfyui: 600000, openai: 120000, runpod: 90000 });
  });

  it('names the variable of a bad value', () => {
    expect(() => loadApiConfig({ JOBSCOPE_API_TOKEN: TOKEN, STUCK_THRESHOLDS: 'comfyui:10' })).toThrow(/STUCK_THRESHOLDS/);
    expect(() => loadApiConfig({ JOBSCOPE_API_TOKEN: TOKEN, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadApiConfig({ JOBSCOPE_API_TOKEN: 'short' })).toThrow(/JOBSCOPE_API_TOKEN.*16 characters/);
    expect(() => loadApiConfig({ JOBSCOPE_API_TOKEN: TOKEN, JOBSCOPE_TRACE_URL_TEMPLATE: 'grafana/{traceId}' })).toThrow(/JOBSCOPE_TRACE_URL_TEMPLATE/);
  });
});
