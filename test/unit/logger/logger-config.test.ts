import { describe, expect, it } from 'vitest';
import { loadLoggerConfig } from '../../../src/config/logger-config.js';
import { ConfigError } from '../../../src/errors.js';

describe('loadLoggerConfig', () => {
  it('has the documented defaults', () => {
    expect(loadLoggerConfig({}, '/srv/app')).toEqual({
      level: 'info',
      stdout: true,
      bufferMaxEvents: 10_000,
      bufferMaxBytes: 16 * 1024 * 1024,
      spoolDir: '/srv/app/.jobscope/spool',
      spoolMaxBytes: 256 * 1024 * 1024,
      flushIntervalMs: 20,
      flushBatch: 200,
      packEvents: true,
    });
  });

  it('reads every variable', () => {
    const c = loadLoggerConfig(
      {
        LOG_LEVEL: 'debug',
        JOBSCOPE_LOG_STDOUT: 'false',
        JOBSCOPE_BUFFER_MAX_EVENTS: '50',
        JOBSCOPE_BUFFER_MAX_BYTES: '65536',
        JOBSCOPE_SPOOL_DIR: '/var/spool/js',
        JOBSCOPE_SPOOL_MAX_BYTES: '0',
        JOBSCOPE_FLUSH_INTERVAL_MS: '5',
        JOBSCOPE_FLUSH_BATCH: '500',
        JOBSCOPE_PACK_EVENTS: 'false',
      },
      '/srv/app',
    );
    expect(c).toMatchObject({ level: 'debug', stdout: false, bufferMaxEvents: 50, bufferMaxBytes: 65536, spoolDir: '/var/spool/js', spoolMaxBytes: 0, flushIntervalMs: 5, flushBatch: 500, packEvents: false });
  });

  it('names the variable and the rule of a bad value', () => {
    expect(() => loadLoggerConfig({ JOBSCOPE_FLUSH_BATCH: 'lots' })).toThrow(ConfigError);
    expect(() => loadLoggerConfig({ JOBSCOPE_FLUSH_BATCH: 'lots' })).toThrow(/JOBSCOPE_FLUSH_BATCH: must be a whole number/);
    expect(() => loadLoggerConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL: must be one of/);
  });
});
