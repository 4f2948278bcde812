// Makes sure what the tests need is on this machine: a Redis answering at REDIS_URL (or
// 127.0.0.1:6379), redis-server itself (tests start their own for restart/crash cases), and
// Debian's Chromium for the browser tests. Installs with apt-get when missing and allowed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

const log = (msg) => console.log(`[ensure] ${msg}`);

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

let aptUpdated = false;
function aptInstall(pkgs) {
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${pkgs.join(', ')}: install with "sudo apt-get install -y ${pkgs.join(' ')}"`);
  }
  if (!aptUpdated) {
    log('apt-get update');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    aptUpdated = true;
  }
  log(`apt-get install ${pkgs.join(' ')}`);
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function ping(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });
}

export async function ensureRedis() {
  if (!has('redis-server')) aptInstall(['redis-server']);
  const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const host = url.hostname || '127.0.0.1';
  const port = Number(url.port || 6379);
  if (await ping(host, port)) return log(`Redis answers at ${host}:${port}`);
  if (process.env.REDIS_URL) throw new Error(`REDIS_URL=${process.env.REDIS_URL} does not answer PING`);
  log('Redis is not answering on 127.0.0.1:6379: starting redis-server (no persistence)');
  execFileSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no'], {
    stdio: 'inherit',
  });
  for (let i = 0; i < 50; i++) {
    if (await ping(host, port)) return log('Redis started');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server was started but does not answer on 127.0.0.1:6379; see its log');
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function ensureChromium() {
  if (existsSync(CHROMIUM_PATH)) return log(`Chromium at ${CHROMIUM_PATH}`);
  aptInstall(['chromium']);
}

/** promtool (Debian's `prometheus` package) validates infra/prometheus; best effort. */
export function ensurePromtool() {
  if (has('promtool')) return log('promtool present');
  try {
    aptInstall(['prometheus']);
  } catch (err) {
    log(`promtool unavailable, the Prometheus config checks will be skipped: ${err.message}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await ensureRedis();
  if (!process.argv.includes('--no-chromium')) ensureChromium();
}
