import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFluentdConfig } from '../../../../src/config/fluentd-config.js';
import { ConfigError } from '../../../../src/errors.js';

describe('loadFluentdConfig', () => {
  it('is off without FLUENTD_HOST and has the documented defaults', () => {
    expect(loadFluentdConfig({})).toBeUndefined();
    expect(loadFluentdConfig({ FLUENTD_HOST: 'fluentd' })).toEqual({
      host: 'fluentd',
      port: 24224,
      tagPrefix: 'jobscope',
      ackTimeoutMs: 10_000,
      eventMode: 'PackedForward',
    });
  });

  it('reads TLS with a CA file, shared key, user and tag prefix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobscope-ca-'));
    writeFileSync(join(dir, 'ca.pem'), 'PEM');
    const c = loadFluentdConfig({
      FLUENTD_HOST: 'logs.internal',
      FLUENTD_PORT: '24225',
      FLUENTD_TLS: 'true',
      FLUENTD_TLS_CA: join(dir, 'ca.pem'),
      FLUENTD_SHARED_KEY: 's',
      FLUENTD_USERNAME: 'u',
      FLUENTD_PASSWORD: 'p',
      FLUENTD_TAG_PREFIX: 'acme',
      FLUENTD_ACK_TIMEOUT_MS: '2500',
    })!;
    expect(c).toMatchObject({ port: 24225, sharedKey: 's', username: 'u', password: 'p', tagPrefix: 'acme', ackTimeoutMs: 2500 });
    expect(String(c.tls?.ca)).toBe('PEM');
  });

  it('fails at start naming the variable', () => {
    expect(() => loadFluentdConfig({ FLUENTD_HOST: 'h', FLUENTD_PORT: '70000' })).toThrow(/FLUENTD_PORT/);
    expect(() => loadFluentdConfig({ FLUENTD_HOST: 'h', FLUENTD_TAG_PREFIX: 'a b' })).toThrow(/FLUENTD_TAG_PREFIX/);
    expect(() => loadFluentdConfig({ FLUENTD_HOST: 'h', FLUENTD_TLS_CA: '/nonexistent/ca.pem' })).toThrow(ConfigError);
    expect(() => loadFluentdConfig({ FLUENTD_HOST: 'h', FLUENTD_TLS_CA: '/nonexistent/ca.pem' })).toThrow(/FLUENTD_TLS_CA.*ENOENT/);
    expect(() => loadFluentdConfig({ FLUENTD_HOST: 'h', FLUENTD_USERNAME: 'u' })).toThrow(/FLUENTD_USERNAME.*FLUENTD_SHARED_KEY/);
  });
});
