import { describe, expect, it } from 'vitest';
import { loadRedisConfig } from '../../src/config/redis-config.js';
import { loadWorkerConfig } from '../../src/config/worker-config.js';
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
  it('does not promise a default to a variable that has none', () => {
    // OPENAI_BASE_URL has no default: unsetting it leaves the openai-compatible connector without an API.
    expect(() => loadWorkerConfig({ OPENAI_BASE_URL: 'ftp://x' })).toThrow(
      /^Invalid configuration OPENAI_BASE_URL: must be a URL starting with http:\/\/ or https:\/\/ \(got "ftp:\/\/x"\)\. Fix the value \(or unset it where it is not needed: it has no default\) and start again\.$/,
    );
    expect(() => loadWorkerConfig({ WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY: .*or unset it to use the default/);
  });
});
