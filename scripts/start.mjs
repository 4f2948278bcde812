// README's main command (`npm start`): builds if the build is missing or older than the
// sources, then runs `jobscope start` — the whole stack on this machine.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { buildIfNeeded, CLI_ENTRY } from './build-if-needed.mjs';

if (!existsSync('node_modules')) {
  console.error('Dependencies are missing: run "npm install" first (then "npm start").');
  process.exit(1);
}
buildIfNeeded();
const child = spawn(process.execPath, [CLI_ENTRY, 'start', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
