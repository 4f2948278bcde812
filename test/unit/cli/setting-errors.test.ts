import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run as demo } from '../../../src/cli/commands/demo.js';
import { run as start } from '../../../src/cli/commands/start.js';
import { run as worker } from '../../../src/cli/commands/worker.js';
import { flagSettings } from '../../../src/cli/flag-settings.js';
import { loadWorkerConfig } from '../../../src/config/worker-config.js';
import { ConfigError } from '../../../src/errors.js';

/** A CLI io whose Redis does not matter: every case here fails before anything connects. */
function io(env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  return { stdout, stderr, env: { REDIS_URL: 'redis://127.0.0.1:1', ...env } };
}

describe('a bad setting is reported under the name the user gave it', () => {
  it('a flag that stands for a variable is named as the flag, with the variable beside it', async () => {
    await expect(worker(['--connector', 'simulated', '--concurrency', 'abc'], io())).rejects.toThrow(
      /^Invalid configuration --concurrency \(WORKER_CONCURRENCY\): must be a whole number.*"abc".*Fix the value \(or leave the flag out to use the default\) and start again\.$/,
    );
    await expect(worker(['--connector', 'simulated', '--queue', 'a b'], io())).rejects.toThrow(/^Invalid configuration --queue \(JOBSCOPE_QUEUE\): /);
    await expect(demo(['--rate', 'fast'], io())).rejects.toThrow(/^Invalid configuration --rate \(DEMO_RATE_PER_SEC\): /);
  });

  it('start checks its flags before it looks for Redis, and takes an empty flag as a bad value (as demo does)', async () => {
    // io()'s Redis does not answer: had the flags been checked after it, the error would be about Redis.
    await expect(start(['--rate', ''], io())).rejects.toThrow(/^Invalid configuration --rate \(DEMO_RATE_PER_SEC\): must be a number \(got ""\)/);
    await expect(demo(['--rate', ''], io())).rejects.toThrow(/^Invalid configuration --rate \(DEMO_RATE_PER_SEC\): must be a number \(got ""\)/);
    await expect(start(['--port', 'http'], io())).rejects.toThrow(/^Invalid configuration --port \(PORT\): /);
    await expect(start(['--no-demo'], io())).rejects.toThrow(/^REDIS_URL=redis:\/\/127\.0\.0\.1:1 does not answer PING/);
  });

  it("demo checks only the settings it uses: a job worker's queue, concurrency or connector settings do not stop it", async () => {
    const workerOnly = { JOBSCOPE_QUEUE: 'a b', WORKER_CONCURRENCY: 'abc', WORKER_SHUTDOWN_TIMEOUT_MS: '-1', OPENAI_BASE_URL: 'nope', PORT: 'http' };
    await expect(demo(['--rate', 'fast'], io(workerOnly))).rejects.toThrow(/^Invalid configuration --rate \(DEMO_RATE_PER_SEC\): /);
    await expect(demo([], io({ ...workerOnly, HEARTBEAT_INTERVAL_MS: '5' }))).rejects.toThrow(/^Invalid configuration HEARTBEAT_INTERVAL_MS: /);
    await expect(demo([], io({ ...workerOnly, BULLMQ_PREFIX: 'a b' }))).rejects.toThrow(/^Invalid configuration BULLMQ_PREFIX: /);
  });

  it('the same value set as a variable is named as the variable', async () => {
    await expect(worker(['--connector', 'simulated'], io({ WORKER_CONCURRENCY: 'abc' }))).rejects.toThrow(/^Invalid configuration WORKER_CONCURRENCY: .*or unset it to use the default/);
  });

  it('an unknown connector names where it came from, and offers no default (there is none)', async () => {
    const fromEnv = worker([], io({ JOBSCOPE_CONNECTOR: 'bogus' }));
    await expect(fromEnv).rejects.toThrow(ConfigError);
    await expect(worker([], io({ JOBSCOPE_CONNECTOR: 'bogus' }))).rejects.toThrow(
      /^Invalid configuration JOBSCOPE_CONNECTOR: must be one of simulated, openai-compatible, comfyui \(got "bogus"\)\. Fix the value and start again\.$/,
    );
    await expect(worker(['--connector', 'bogus'], io({ JOBSCOPE_CONNECTOR: 'simulated' }))).rejects.toThrow(/^Invalid configuration --connector: must be one of .*\(got "bogus"\)\. Fix the value and start again\.$/);
  });

  it('flagSettings leaves errors about other variables as they are', () => {
    const s = flagSettings({ HEARTBEAT_INTERVAL_MS: 'often' }, [['--queue', 'JOBSCOPE_QUEUE', 'q1'], ['--concurrency', 'WORKER_CONCURRENCY', undefined]]);
    expect(s.env.JOBSCOPE_QUEUE).toBe('q1');
    expect('WORKER_CONCURRENCY' in s.env).toBe(false);
    expect(() => s.load(loadWorkerConfig)).toThrow(/^Invalid configuration HEARTBEAT_INTERVAL_MS: /);
  });
});
