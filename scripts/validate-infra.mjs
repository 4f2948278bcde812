#!/usr/bin/env node
// Validates what can be validated of the deployment files without Docker:
//   node scripts/validate-infra.mjs [repo-root] [--require-promtool]
// - every JSON file in infra/ (and railway.json) parses;
// - every YAML file in infra/ parses: with PyYAML (`python3 -c 'import yaml'`) when present, else
//   a structural check (no tabs in indentation, balanced flow brackets and quotes per line) —
//   the output says which;
// - infra/fluentd/fluent.conf: every <section> is closed, in order;
// - the Grafana dashboards only use the provisioned Prometheus datasource uid;
// - with promtool (Debian package `prometheus`): `promtool check config --syntax-only` (the
//   API token file it references exists only inside the container), `promtool check rules`, and
//   `promtool test rules` on the alert unit tests. Without promtool these are skipped (said so),
//   or fail with --require-promtool (CI).
// Exit code 0 when everything checked passed, 1 otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const requirePromtool = args.includes('--require-promtool');
const root = resolve(args.find((a) => !a.startsWith('--')) ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const infra = join(root, 'infra');
const failures = [];
const rel = (p) => relative(root, p);
const ok = (file, how) => console.log(`ok    ${rel(file)} (${how})`);
const fail = (file, why) => {
  failures.push(file);
  console.log(`FAIL  ${rel(file)}: ${why}`);
};

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Parses YAML files with PyYAML in one python3 run; undefined when PyYAML is not available. */
function parseYamlWithPython(files) {
  if (!has('python3') || spawnSync('python3', ['-c', 'import yaml'], { stdio: 'ignore' }).status !== 0) return undefined;
  const code = [
    'import json, sys, yaml',
    'out = {}',
    'for f in sys.argv[1:]:',
    '    try:',
    '        out[f] = {"ok": True, "value": yaml.safe_load(open(f, encoding="utf-8"))}',
    '    except Exception as e:',
    '        out[f] = {"ok": False, "error": str(e).replace("\\n", " ")}',
    'print(json.dumps(out, default=str))',
  ].join('\n');
  const run = spawnSync('python3', ['-c', code, ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/** The fallback when PyYAML is missing: catches the usual hand-editing mistakes, not every one. */
function structuralYamlErrors(text) {
  const errors = [];
  text.split('\n').forEach((line, i) => {
    if (/^\s*\t/.test(line)) errors.push(`line ${i + 1}: tab in indentation`);
    const code = line.replace(/(^|\s)#.*$/, '');
    const bare = code.replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, '');
    if (/['"]/.test(bare.replace(/\w'\w/g, ''))) errors.push(`line ${i + 1}: unbalanced quote`);
    for (const [open, close] of [['[', ']'], ['{', '}']]) {
      if (bare.split(open).length !== bare.split(close).length) errors.push(`line ${i + 1}: unbalanced ${open}${close}`);
    }
  });
  return errors;
}

function checkFluentConf(file) {
  const stack = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*<(\/?)([A-Za-z_]+)[^>]*>\s*$/.exec(lines[i].replace(/#.*$/, ''));
    if (!m) continue;
    if (m[1] === '') stack.push([m[2], i + 1]);
    else if (stack.length === 0 || stack.at(-1)[0] !== m[2]) return fail(file, `line ${i + 1}: </${m[2]}> closes ${stack.length ? `<${stack.at(-1)[0]}>` : 'nothing'}`);
    else stack.pop();
  }
  if (stack.length > 0) return fail(file, `<${stack.at(-1)[0]}> opened on line ${stack.at(-1)[1]} is never closed`);
  ok(file, 'sections balanced');
}

function datasourceUids(value, out = new Set()) {
  if (Array.isArray(value)) value.forEach((v) => datasourceUids(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'datasource' && v && typeof v === 'object' && v.type === 'prometheus') out.add(v.uid);
      else datasourceUids(v, out);
    }
  }
  return out;
}

function runPromtool(label, promArgs, cwd) {
  const run = spawnSync('promtool', promArgs, { cwd, encoding: 'utf8' });
  const text = `${run.stdout}${run.stderr}`.trim().replace(/\s+/g, ' ');
  if (run.status === 0) ok(join(cwd, promArgs.at(-1)), `promtool ${label}`);
  else fail(join(cwd, promArgs.at(-1)), `promtool ${label}: ${text.slice(0, 2000)}`);
}

if (!existsSync(infra)) {
  console.log(`FAIL  ${infra} does not exist`);
  process.exit(1);
}
const files = walk(infra).sort();
const jsonFiles = [...files.filter((f) => f.endsWith('.json')), join(root, 'railway.json')].filter(existsSync);
const yamlFiles = files.filter((f) => /\.ya?ml$/.test(f));
const parsed = new Map();

for (const file of jsonFiles) {
  try {
    parsed.set(file, JSON.parse(readFileSync(file, 'utf8')));
    ok(file, 'JSON');
  } catch (err) {
    fail(file, `invalid JSON: ${err.message}`);
  }
}

const viaPython = parseYamlWithPython(yamlFiles);
for (const file of yamlFiles) {
  if (viaPython) {
    const r = viaPython[file];
    if (r.ok) {
      parsed.set(file, r.value);
      ok(file, 'YAML, PyYAML');
    } else fail(file, `invalid YAML: ${r.error}`);
  } else {
    const errors = structuralYamlErrors(readFileSync(file, 'utf8'));
    if (errors.length === 0) ok(file, 'YAML, structural check only: PyYAML not installed');
    else fail(file, errors.slice(0, 5).join('; '));
  }
}

const fluentConf = join(infra, 'fluentd', 'fluent.conf');
if (existsSync(fluentConf)) checkFluentConf(fluentConf);

const dsFile = join(infra, 'grafana', 'provisioning', 'datasources', 'prometheus.yml');
const provisioned = new Set((parsed.get(dsFile)?.datasources ?? []).map((d) => d.uid));
for (const file of jsonFiles.filter((f) => f.includes(join('grafana', 'dashboards')))) {
  if (!parsed.has(file) || !viaPython) continue;
  const unknown = [...datasourceUids(parsed.get(file))].filter((uid) => !provisioned.has(uid));
  if (unknown.length > 0) fail(file, `panels use datasource uid(s) ${unknown.join(', ')}; provisioned: ${[...provisioned].join(', ') || 'none'}`);
  else ok(file, `datasource uid ${[...provisioned].join(', ')}`);
}

const promDir = join(infra, 'prometheus');
if (has('promtool')) {
  if (existsSync(join(promDir, 'prometheus.yml'))) runPromtool('check config --syntax-only', ['check', 'config', '--syntax-only', 'prometheus.yml'], promDir);
  if (existsSync(join(promDir, 'alerts.yml'))) runPromtool('check rules', ['check', 'rules', 'alerts.yml'], promDir);
  if (existsSync(join(promDir, 'alerts.test.yml'))) runPromtool('test rules', ['test', 'rules', 'alerts.test.yml'], promDir);
} else if (requirePromtool) {
  fail(promDir, 'promtool is not installed (Debian: apt-get install -y prometheus)');
} else {
  console.log('skip  promtool checks: promtool is not installed (Debian: apt-get install -y prometheus)');
}

console.log(failures.length === 0 ? 'infra: all checks passed' : `infra: ${failures.length} check(s) failed`);
process.exitCode = failures.length === 0 ? 0 : 1;
