import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// promtool (Debian package `prometheus`) checks the Prometheus files and runs the alert unit
// tests in infra/prometheus/alerts.test.yml; scripts/validate-infra.mjs wraps all infra checks.

const ROOT = join(import.meta.dirname, '..', '..', '..');
const PROM_DIR = join(ROOT, 'infra', 'prometheus');
const HAS_PROMTOOL = spawnSync('sh', ['-c', 'command -v promtool'], { stdio: 'ignore' }).status === 0;
const temps: string[] = [];

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: PROM_DIR, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

function validate(root: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'validate-infra.mjs'), root], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!HAS_PROMTOOL)('promtool', () => {
  it('accepts prometheus.yml', () => {
    const r = promtool('check', 'config', '--syntax-only', 'prometheus.yml');
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('accepts the alert rules', () => {
    const r = promtool('check', 'rules', 'alerts.yml');
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('the alert unit tests pass: alerts fire when they should and stay quiet otherwise', () => {
    const r = promtool('test', 'rules', 'alerts.test.yml');
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

describe('scripts/validate-infra.mjs', () => {
  it('passes on the committed infra/', () => {
    const r = validate(ROOT);
    expect(r.output).toContain('infra: all checks passed');
    expect(r.status).toBe(0);
  });

  it('fails, naming the file, when a YAML file or a rule is broken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobscope-infra-'));
    temps.push(dir);
    cpSync(join(ROOT, 'infra'), join(dir, 'infra'), { recursive: true });
    cpSync(join(ROOT, 'railway.json'), join(dir, 'railway.json'));
    writeFileSync(join(dir, 'infra', 'otel-collector', 'config.yaml'), 'receivers:\n  otlp: [unclosed\n');
    if (HAS_PROMTOOL) writeFileSync(join(dir, 'infra', 'prometheus', 'alerts.yml'), 'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(jobscope_jobs_total[5m])\n');
    const r = validate(dir);
    expect(r.status).toBe(1);
    expect(r.output).toMatch(/FAIL {2}infra\/otel-collector\/config\.yaml/);
    if (HAS_PROMTOOL) expect(r.output).toMatch(/FAIL {2}infra\/prometheus\/alerts\.yml: promtool check rules/);
  });
});
