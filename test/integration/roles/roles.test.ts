import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStatusReader } from '../../../src/status/status-reader.js';
import { freePort } from '../../helpers/redis-process.js';
import { cleanupPrefix, testPrefix, testRedis, TEST_REDIS_URL, waitFor } from '../../helpers/redis.js';

/**
 * Each deployable role, started the way the image starts it (`node scripts/start-role.mjs`
 * with JOBSCOPE_ROLE), serves its health check on PORT and drains on SIGTERM within its
 * deadline; `npm start`'s stack comes up against the local Redis and serves the dashboard.
 * These run the built CLI (npm test builds first), as Railway does.
 */

const redis = testRedis();
const prefixes: string[] = [];
const children: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  port: number;
  prefix: string;
  output: () => string;
}

async function startProcess(args: string[], env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const prefix = testPrefix('role');
  prefixes.push(prefix);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, REDIS_URL: TEST_REDIS_URL, JOBSCOPE_PREFIX: prefix, PORT: String(port), JOBSCOPE_SPOOL_DIR: `/tmp/${prefix}-spool`, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, port, prefix, output: () => out };
}

async function healthy(port: number, path = '/healthz'): Promise<Response | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return res.ok ? res : undefined;
  } catch {
    return undefined;
  }
}

/** Sends SIGTERM and resolves with the exit code and how long the drain took. */
async function terminate(child: ChildProcess): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const code = await exited;
  return { code, ms: Date.now() - started };
}

beforeAll(() => {
  if (!existsSync('dist/src/cli/main.js')) throw new Error('dist/ is missing: run "npm test" (it builds) or "npm run build" first');
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const p of prefixes) await cleanupPrefix(redis, p);
  redis.disconnect();
});

describe('deployable roles (JOBSCOPE_ROLE)', () => {
  const cases: [string, Record<string, string>, number][] = [
    ['api', { JOBSCOPE_API_ALLOW_ANONYMOUS: 'true', API_SHUTDOWN_TIMEOUT_MS: '5000' }, 5000],
    ['pipeline', { PIPELINE_SHUTDOWN_TIMEOUT_MS: '5000', PIPELINE_BLOCK_MS: '200' }, 5000],
    ['worker', { JOBSCOPE_CONNECTOR: 'simulated', JOBSCOPE_QUEUE: 'role-test', WORKER_SHUTDOWN_TIMEOUT_MS: '5000' }, 5000],
  ];
  it.each(cases)('%s starts, serves /healthz on PORT, and drains on SIGTERM within its deadline', async (role, env, deadlineMs) => {
    const p = await startProcess(['scripts/start-role.mjs'], { JOBSCOPE_ROLE: role, ...env });
    const res = await waitFor(() => healthy(p.port), { timeoutMs: 45_000, what: `${role} /healthz on ${p.port}; output: ${p.output()}` });
    expect(res.status).toBe(200);
    const { code, ms } = await terminate(p.child);
    expect(code, p.output()).toBe(0);
    expect(ms).toBeLessThan(deadlineMs + 3000);
  });

  it('refuses to start without a role, naming the variable and the allowed values', async () => {
    const p = await startProcess(['scripts/start-role.mjs'], { JOBSCOPE_ROLE: '' });
    const code = await new Promise<number | null>((resolve) => p.child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(p.output()).toMatch(/JOBSCOPE_ROLE.*worker, pipeline, api, all/);
  });
});

describe('jobscope start (npm start)', () => {
  it('comes up against the local Redis, says what runs, serves the dashboard and live jobs, and stops on SIGTERM', async () => {
    const p = await startProcess(['dist/src/cli/main.js', 'start', '--workers', '1', '--rate', '5'], { JOBSCOPE_API_TOKEN: '' });
    await waitFor(() => p.output().includes('Jobscope is running'), { timeoutMs: 45_000, what: `the banner; output: ${p.output()}` });
    expect(p.output()).toMatch(/Redis\s+redis:\/\/127\.0\.0\.1:6379 \(/);
    expect(p.output()).toMatch(/sinks on: status, metrics/);
    // Not on the CLI's default port: the banner says how to point the CLI at it.
    expect(p.output()).toContain(`CLI       → JOBSCOPE_API_URL=http://127.0.0.1:${p.port} npx jobscope watch`);
    const page = await waitFor(() => healthy(p.port, '/'), { what: 'the dashboard' });
    expect(await page.text()).toMatch(/<html/i);
    // The demo workers and pipeline are running: jobs show up in the status store.
    const jobs = await waitFor(
      async () => {
        const res = await healthy(p.port, '/api/jobs?limit=5');
        const body = res ? ((await res.json()) as { jobs: { state: string }[] }) : undefined;
        return body && body.jobs.length > 0 ? body.jobs : undefined;
      },
      { timeoutMs: 30_000, what: 'demo jobs in /api/jobs' },
    );
    expect(jobs.length).toBeGreaterThan(0);
    const { code } = await terminate(p.child);
    expect(code, p.output()).toBe(0);
    expect(p.output()).toMatch(/stopped/);
    // The pipeline took in what the workers wrote as they stopped: the status store shows them stopped, not busy.
    const workers = await createStatusReader({ redis, prefix: p.prefix }).listWorkers();
    expect(workers.length).toBeGreaterThan(0);
    expect(workers.map((w) => [w.workerId, w.liveness])).toEqual(workers.map((w) => [w.workerId, 'stopped']));
  });

  it('stops in order on a Ctrl-C that arrives twice (the terminal, then npm start relaying it)', async () => {
    const p = await startProcess(['dist/src/cli/main.js', 'start', '--workers', '1', '--rate', '5'], { JOBSCOPE_API_TOKEN: '' });
    await waitFor(() => p.output().includes('Jobscope is running'), { timeoutMs: 45_000, what: `the banner; output: ${p.output()}` });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => p.child.once('exit', (code, signal) => resolve({ code, signal })));
    p.child.kill('SIGINT');
    await waitFor(() => p.output().includes('SIGINT: stopping'), { what: 'the stop to begin' });
    // The relayed copy comes while the stack drains: it used to kill the process there (exit 130).
    p.child.kill('SIGINT');
    expect(await exited, p.output()).toEqual({ code: 0, signal: null });
    expect(p.output()).toMatch(/jobscope start: stopped/);
    expect(p.output()).not.toMatch(/again: exiting now/);
  });
});
