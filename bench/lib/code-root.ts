import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where benchmark child processes load Jobscope from: the built `dist/src` when it exists (what
 * a deployment runs: plain JavaScript, no on-the-fly TypeScript compilation, which by itself
 * costs tens of MB of RSS), else `src` through tsx. `npm run build` first for quotable memory
 * figures; `BENCH_CODE=src` forces `src`. A `dist` older than its source is still used, with a warning on stderr.
 */

const DIST = new URL('../../dist/src/', import.meta.url);
const SRC = new URL('../../src/', import.meta.url);
const PROBE = 'pipeline/sink-loop';

/** `'dist'` or `'src'`: which code the children run. */
export const codeKind: 'dist' | 'src' =
  process.env.BENCH_CODE === 'src' || !existsSync(fileURLToPath(new URL(`${PROBE}.js`, DIST))) ? 'src' : 'dist';

if (codeKind === 'dist') {
  const built = statSync(fileURLToPath(new URL(`${PROBE}.js`, DIST))).mtimeMs;
  const source = statSync(fileURLToPath(new URL(`${PROBE}.ts`, SRC))).mtimeMs;
  if (source > built) process.stderr.write('bench: dist/ is older than src/; run `npm run build` for current figures\n');
}

/** Imports `src/<path>` (a `.js` path as in source imports) from the code root chosen above. */
export async function importCode<T>(path: string): Promise<T> {
  return (await import(new URL(path, codeKind === 'dist' ? DIST : SRC).href)) as T;
}
