// README's test command (`npm test`): starts what the tests need, runs vitest, and ends with
// one plain summary line `N passed, N failed[, N skipped]` that CI's runner detection reads.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIfNeeded } from './build-if-needed.mjs';
import { ensureChromium, ensurePromtool, ensureRedis } from './ensure-services.mjs';

await ensureRedis();
try {
  ensureChromium();
} catch (err) {
  console.warn(`[ensure] Chromium unavailable, browser tests will fail: ${err.message}`);
}

ensurePromtool();
// The role and `npm start` tests run the built CLI, as the deployed image does.
buildIfNeeded();

const dir = mkdtempSync(join(tmpdir(), 'jobscope-test-'));
const report = join(dir, 'vitest.json');
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit', env: process.env });

let summary = 'vitest did not write a report';
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A file that fails to load has no test results of its own: count it as a failure.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  summary = `${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles} failed${skipped ? `, ${skipped} skipped` : ''}`;
} catch (err) {
  summary = `0 passed, 1 failed (${err.message})`;
}
rmSync(dir, { recursive: true, force: true });
console.log(summary);
process.exit(run.status ?? 1);
