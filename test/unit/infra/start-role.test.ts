import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/redis.js';

// scripts/start-role.mjs, run as the image runs it, in a copy of the layout it expects: a stand-in
// dist/src/cli/main.js reports the argv and environment it was started with, and drains on SIGTERM.

const ROOT = join(import.meta.dirname, '..', '..', '..');
const FAKE_CLI = `
process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), env: {
  METRICS_PORT: process.env.METRICS_PORT, WORKER_SHUTDOWN_TIMEOUT_MS: process.env.WORKER_SHUTDOWN_TIMEOUT_MS,
  PIPELINE_SHUTDOWN_TIMEOUT_MS: process.env.PIPELINE_SHUTDOWN_TIMEOUT_MS, API_SHUTDOWN_TIMEOUT_MS: process.env.API_SHUTDOWN_TIMEOUT_MS,
  JOBSCOPE_CONNECTOR: process.env.JOBSCOPE_CONNECTOR } }) + '\\n');
if (process.env.FAKE_CLI_SERVE) {
  const timer = setInterval(() => {}, 1000);
  process.on('SIGTERM', () => { process.stdout.write('drained\\n'); clearInterval(timer); process.exitCode = 0; });
  process.stdout.write('serving\\n');
}
`;

let dir = '';
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jobscope-role-'));
  mkdirSync(join(dir, 'scripts'));
  mkdirSync(join(dir, 'dist', 'src', 'cli'), { recursive: true });
  copyFileSync(join(ROOT, 'scripts', 'start-role.mjs'), join(dir, 'scripts', 'start-role.mjs'));
  writeFileSync(join(dir, 'dist', 'src', 'cli', 'main.js'), FAKE_CLI);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

function launch(env: Record<string, string>, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(dir, 'scripts', 'start-role.mjs'), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Like {@link launch}, without blocking this process's event loop (the health servers live here). */
function probe(env: Record<string, string>): Promise<{ status: number | null; stdout: string }> {
  const child = spawn(process.execPath, [join(dir, 'scripts', 'start-role.mjs'), '--healthcheck'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  return new Promise((resolve) => child.on('exit', (status) => resolve({ status, stdout })));
}

function started(stdout: string): { argv: string[]; env: Record<string, string | undefined> } {
  return JSON.parse(stdout.split('\n')[0]!) as { argv: string[]; env: Record<string, string | undefined> };
}

async function healthServer(status: number): Promise<number> {
  const server = createServer((req, res) => res.writeHead(req.url === '/healthz' ? status : 404).end());
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

describe('scripts/start-role.mjs', () => {
  it('fails naming JOBSCOPE_ROLE and the allowed values when the role is missing or wrong', () => {
    const missing = launch({});
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('JOBSCOPE_ROLE is not set; set it to one of: worker, pipeline, api, all');
    const wrong = launch({ JOBSCOPE_ROLE: 'scheduler' });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('JOBSCOPE_ROLE="scheduler" is not a role; set it to one of: worker, pipeline, api, all');
    expect(wrong.stdout).toBe('');
  });

  it('runs the role’s jobscope command with the remaining arguments', () => {
    for (const [role, command] of [['pipeline', 'pipeline'], ['api', 'api'], ['ALL', 'start']] as const) {
      const r = launch({ JOBSCOPE_ROLE: role }, ['--verbose']);
      expect(r.status, r.stderr).toBe(0);
      expect(started(r.stdout).argv).toEqual([command, '--verbose']);
    }
  });

  it('leaves the worker its connector in JOBSCOPE_CONNECTOR, and says so when it is missing', () => {
    const r = launch({ JOBSCOPE_ROLE: 'worker', JOBSCOPE_CONNECTOR: 'openai-compatible' }, ['--concurrency', '2']);
    // The CLI reads JOBSCOPE_CONNECTOR itself, so a bad one is reported under the name the user set.
    expect(started(r.stdout).argv).toEqual(['worker', '--concurrency', '2']);
    expect(started(r.stdout).env.JOBSCOPE_CONNECTOR).toBe('openai-compatible');
    // An explicit --connector wins.
    expect(started(launch({ JOBSCOPE_ROLE: 'worker', JOBSCOPE_CONNECTOR: 'comfyui' }, ['--connector=simulated']).stdout).argv).toEqual(['worker', '--connector=simulated']);
    const missing = launch({ JOBSCOPE_ROLE: 'worker' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('JOBSCOPE_CONNECTOR is not set: the worker role needs its connector');
  });

  it('says what to do when the build is missing', () => {
    const bare = mkdtempSync(join(tmpdir(), 'jobscope-role-bare-'));
    try {
      mkdirSync(join(bare, 'scripts'));
      copyFileSync(join(ROOT, 'scripts', 'start-role.mjs'), join(bare, 'scripts', 'start-role.mjs'));
      const run = spawnSync(process.execPath, [join(bare, 'scripts', 'start-role.mjs')], { env: { JOBSCOPE_ROLE: 'api' }, encoding: 'utf8' });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('run "npm run build" first');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('points the pipeline’s /healthz at PORT, unless METRICS_PORT is set', () => {
    expect(started(launch({ JOBSCOPE_ROLE: 'pipeline', PORT: '8123' }).stdout).env.METRICS_PORT).toBe('8123');
    const explicit = launch({ JOBSCOPE_ROLE: 'pipeline', PORT: '8123', METRICS_PORT: '9464' });
    expect(started(explicit.stdout).env.METRICS_PORT).toBe('9464');
    expect(explicit.stderr).toContain('warning: PORT=8123 but METRICS_PORT=9464');
    expect(started(launch({ JOBSCOPE_ROLE: 'api', PORT: '8123' }).stdout).env.METRICS_PORT).toBeUndefined();
  });

  it('fits the drain deadline into RAILWAY_DEPLOYMENT_DRAINING_SECONDS, keeping explicit values', () => {
    expect(started(launch({ JOBSCOPE_ROLE: 'worker', JOBSCOPE_CONNECTOR: 'simulated', RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '30' }).stdout).env.WORKER_SHUTDOWN_TIMEOUT_MS).toBe('27000');
    expect(started(launch({ JOBSCOPE_ROLE: 'pipeline', RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '4' }).stdout).env.PIPELINE_SHUTDOWN_TIMEOUT_MS).toBe('2000');
    const all = started(launch({ JOBSCOPE_ROLE: 'all', RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '60' }).stdout).env;
    expect([all.WORKER_SHUTDOWN_TIMEOUT_MS, all.PIPELINE_SHUTDOWN_TIMEOUT_MS, all.API_SHUTDOWN_TIMEOUT_MS]).toEqual(['57000', '57000', '57000']);
    const tooLong = launch({ JOBSCOPE_ROLE: 'worker', JOBSCOPE_CONNECTOR: 'simulated', RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '10', WORKER_SHUTDOWN_TIMEOUT_MS: '25000' });
    expect(started(tooLong.stdout).env.WORKER_SHUTDOWN_TIMEOUT_MS).toBe('25000');
    expect(tooLong.stderr).toContain('WORKER_SHUTDOWN_TIMEOUT_MS=25000 ms does not fit RAILWAY_DEPLOYMENT_DRAINING_SECONDS=10');
    expect(started(launch({ JOBSCOPE_ROLE: 'worker', JOBSCOPE_CONNECTOR: 'simulated' }).stdout).env.WORKER_SHUTDOWN_TIMEOUT_MS).toBeUndefined();
    const bad = launch({ JOBSCOPE_ROLE: 'worker', JOBSCOPE_CONNECTOR: 'simulated', RAILWAY_DEPLOYMENT_DRAINING_SECONDS: '30s' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('RAILWAY_DEPLOYMENT_DRAINING_SECONDS="30s" must be a whole number of seconds');
  });

  it('runs the CLI in its own process, so SIGTERM reaches the role’s drain and the exit code is the role’s', async () => {
    const child = spawn(process.execPath, [join(dir, 'scripts', 'start-role.mjs')], {
      env: { PATH: process.env.PATH ?? '', JOBSCOPE_ROLE: 'pipeline', FAKE_CLI_SERVE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await waitFor(() => out.includes('serving'), { timeoutMs: 10_000, what: 'the CLI to serve' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('drained');
  });

  it('--healthcheck succeeds on a 200 from the role’s /healthz and fails otherwise', async () => {
    const healthy = await healthServer(200);
    const sick = await healthServer(503);
    expect((await probe({ JOBSCOPE_ROLE: 'api', PORT: String(healthy) })).status).toBe(0);
    expect((await probe({ JOBSCOPE_ROLE: 'pipeline', METRICS_PORT: String(healthy) })).status).toBe(0);
    // Railway's PORT becomes the pipeline's METRICS_PORT, for the probe too.
    expect((await probe({ JOBSCOPE_ROLE: 'pipeline', PORT: String(healthy) })).status).toBe(0);
    const r = await probe({ JOBSCOPE_ROLE: 'api', PORT: String(sick) });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('answered 503');
    const closed = await healthServer(200);
    await new Promise((res) => servers.pop()!.close(res));
    const down = await probe({ JOBSCOPE_ROLE: 'worker', PORT: String(closed) });
    expect(down.status).toBe(1);
    // A worker without PORT serves no health endpoint: nothing to probe, said so.
    const none = await probe({ JOBSCOPE_ROLE: 'worker' });
    expect(none.status).toBe(0);
    expect(none.stdout).toContain('serves no health endpoint (set PORT to get one)');
    expect(down.stdout).toContain('did not answer');
  });
});
