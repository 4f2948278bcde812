// README's main command (`npm start`): builds if the build is missing or older than the
// sources, then runs `jobscope start` — the whole stack on this machine.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ENTRY = 'dist/src/cli/main.js';

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(path) : st.mtimeMs);
  }
  return newest;
}

function needsBuild() {
  if (!existsSync(ENTRY)) return true;
  const built = statSync(ENTRY).mtimeMs;
  return ['src', 'workers', 'connectors'].some((d) => existsSync(d) && newestMtime(d) > built);
}

if (!existsSync('node_modules')) {
  console.error('Dependencies are missing: run "npm install" first (then "npm start").');
  process.exit(1);
}
if (needsBuild()) {
  console.log('Building (npm run build)…');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const child = spawn(process.execPath, [ENTRY, 'start', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
