import { describe, expect, it } from 'vitest';
import { loadOtelConfig, parseOtlpHeaders } from '../../../../src/config/otel-config.js';
import { ConfigError } from '../../../../src/errors.js';
import { createTraceId } from '../../../../src/events/index.js';
import { childSpanId, sampledByRatio } from '../../../../src/sinks/otel/index.js';

describe('sampledByRatio', () => {
  it('takes the same decision for the same trace id every time', () => {
    const id = createTraceId();
    const first = sampledByRatio(id, 0.5);
    for (let i = 0; i < 5; i++) expect(sampledByRatio(id, 0.5)).toBe(first);
  });

  it('keeps about the configured share of traces, all at 1 and none at 0', () => {
    const ids = Array.from({ length: 4000 }, () => createTraceId());
    const kept = ids.filter((id) => sampledByRatio(id, 0.25)).length / ids.length;
    expect(kept).toBeGreaterThan(0.2);
    expect(kept).toBeLessThan(0.3);
    expect(ids.every((id) => sampledByRatio(id, 1))).toBe(true);
    expect(ids.some((id) => sampledByRatio(id, 0))).toBe(false);
  });
});

describe('childSpanId', () => {
  it('is a stable 16-hex id per attempt span and name', () => {
    const a = childSpanId('b7ad6b7169203331', 'processing');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(childSpanId('b7ad6b7169203331', 'processing')).toBe(a);
    expect(childSpanId('b7ad6b7169203331', 'queue-wait')).not.toBe(a);
    expect(childSpanId('b7ad6b7169203332', 'processing')).not.toBe(a);
  });
});

describe('loadOtelConfig', () => {
  it('is off without an endpoint and uses the documented defaults', () => {
    expect(loadOtelConfig({})).toEqual({
      enabled: false,
      tracesUrl: undefined,
      headers: {},
      timeoutMs: 10_000,
      serviceName: undefined,
      sampleRatio: 1,
      environment: 'development',
    });
  });

  it('appends /v1/traces to the base endpoint, and prefers the traces endpoint as given', () => {
    expect(loadOtelConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracesUrl).toBe('http://collector:4318/v1/traces');
    const both = loadOtelConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://otlp.example.com/custom/traces',
    });
    expect(both).toMatchObject({ enabled: true, tracesUrl: 'https://otlp.example.com/custom/traces' });
  });

  it('reads headers, ratio, timeout, service name and the environment fallback chain', () => {
    const c = loadOtelConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-team = ml ',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_SERVICE_NAME: 'render-farm',
      JOBSCOPE_TRACE_SAMPLE_RATIO: '0.1',
      RAILWAY_ENVIRONMENT_NAME: 'staging',
    });
    expect(c).toMatchObject({
      headers: { authorization: 'Bearer abc', 'x-team': 'ml' },
      timeoutMs: 2500,
      serviceName: 'render-farm',
      sampleRatio: 0.1,
      environment: 'staging',
    });
    expect(loadOtelConfig({ DEPLOYMENT_ENVIRONMENT: 'prod', RAILWAY_ENVIRONMENT_NAME: 'staging' }).environment).toBe('prod');
  });

  it('names the variable when a value is wrong', () => {
    expect(() => loadOtelConfig({ JOBSCOPE_TRACE_SAMPLE_RATIO: '1.5' })).toThrow(/JOBSCOPE_TRACE_SAMPLE_RATIO/);
    expect(() => loadOtelConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(ConfigError);
    expect(() => parseOtlpHeaders('novalue')).toThrow(/OTEL_EXPORTER_OTLP_HEADERS/);
  });
});
