// Builds dist/ when it is missing or older than the sources. Used by `npm start` and `npm test`
// (the role tests run the built CLI, as the deployed image does).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CLI_ENTRY = 'dist/src/cli/main.js';

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(path) : st.mtimeMs);
  }
  return newest;
}

export function needsBuild() {
  if (!existsSync(CLI_ENTRY)) return true;
  const built = statSync(CLI_ENTRY).mtimeMs;
  return ['src', 'workers', 'connectors'].some((d) => existsSync(d) && newestMtime(d) > built);
}

/** Runs `npm run build` when needed; exits the process if the build fails. */
export function buildIfNeeded() {
  if (!needsBuild()) return;
  console.log('Building (npm run build)…');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
