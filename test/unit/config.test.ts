import { describe, expect, it } from 'vitest';
import { loadRedisConfig } from '../../src/config/redis-config.js';
import { ConfigError } from '../../src/errors.js';

describe('config', () => {
  it('has defaults', () => {
    expect(loadRedisConfig({})).toEqual({ url: 'redis://127.0.0.1:6379', urlExplicit: false, prefix: 'jobscope', shards: 1, cluster: false });
  });
  it('fails naming the variable and the rule', () => {
    expect(() => loadRedisConfig({ JOBSCOPE_SHARDS: 'two' })).toThrow(ConfigError);
    expect(() => loadRedisConfig({ JOBSCOPE_SHARDS: 'two' })).toThrow(/JOBSCOPE_SHARDS: must be a whole number \(got "two"\)/);
    expect(() => loadRedisConfig({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL: must be a URL starting with redis:\/\//);
    expect(() => loadRedisConfig({ JOBSCOPE_SHARDS: '0' })).toThrow(/JOBSCOPE_SHARDS: must be at least 1/);
    expect(() => loadRedisConfig({ JOBSCOPE_SHARDS: '0' })).toThrow(/^Invalid configuration JOBSCOPE_SHARDS: .*\. Fix the value \(or unset it to use the default\) and start again\.$/);
  });
});
