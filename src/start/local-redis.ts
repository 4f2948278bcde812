import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { JobscopeError } from '../errors.js';

/** Where the local stack's Redis came from. */
export interface LocalRedis {
  url: string;
  /** `env`: REDIS_URL; `default`: 127.0.0.1:6379 answered; `spawned`: started here. */
  origin: 'env' | 'default' | 'spawned';
  /** Stops a spawned redis-server and removes its directory; no-op otherwise. */
  stop(): Promise<void>;
  /** The same, at once and without waiting (a forced exit); no-op unless spawned. */
  stopNow(): void;
}

/** Options for {@link resolveLocalRedis}. */
export interface LocalRedisOptions {
  /** REDIS_URL when the user set one. */
  explicitUrl?: string;
  /** Default address tried when no URL was given. Default `redis://127.0.0.1:6379`. */
  defaultUrl?: string;
  /** How long to wait for a Redis to answer PING, in ms. Default 1500. */
  pingTimeoutMs?: number;
}

async function answers(url: string, timeoutMs: number): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Finds a Redis for the local stack: `REDIS_URL` if set (it must answer); else the default
 * local address; else, when `redis-server` is installed, one started here in a temporary
 * directory (no persistence); else an error saying how to get one.
 */
export async function resolveLocalRedis(options: LocalRedisOptions = {}): Promise<LocalRedis> {
  const timeoutMs = options.pingTimeoutMs ?? 1500;
  // A Redis found running is not ours to stop.
  const notOurs = { stop: async () => undefined, stopNow: () => undefined };
  if (options.explicitUrl) {
    if (await answers(options.explicitUrl, timeoutMs)) return { url: options.explicitUrl, origin: 'env', ...notOurs };
    throw new JobscopeError(`REDIS_URL=${options.explicitUrl} does not answer PING. Start that Redis, or unset REDIS_URL to use a local one.`);
  }
  const defaultUrl = options.defaultUrl ?? 'redis://127.0.0.1:6379';
  if (await answers(defaultUrl, timeoutMs)) return { url: defaultUrl, origin: 'default', ...notOurs };
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status !== 0) {
    throw new JobscopeError(
      `No Redis answers at ${defaultUrl} and redis-server is not installed. Install it (Debian/Ubuntu: "sudo apt-get install redis-server"; macOS: "brew install redis"), or set REDIS_URL to a Redis you have.`,
    );
  }
  return spawnRedis(timeoutMs);
}

async function spawnRedis(timeoutMs: number): Promise<LocalRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'jobscope-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const stopNow = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await answers(url, timeoutMs)) return { url, origin: 'spawned', stop, stopNow };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new JobscopeError(`Started redis-server on port ${port} but it did not answer; run "redis-server --port ${port}" by hand to see why.`);
}
