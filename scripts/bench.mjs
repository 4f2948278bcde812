#!/usr/bin/env node
/**
 * `npm run bench`: runs every benchmark in bench/ in sequence (one child process each, so one
 * cannot disturb the next), shows progress ([i/N] name, elapsed, ETA), then collects their
 * results (bench/results/<name>.json, one common shape: see bench/lib/result.ts) into
 * bench/results/summary.json and the results section of BENCHMARKS.md.
 *
 *   node scripts/bench.mjs [--quick] [--only name,name] [--rounds N]
 *
 * --quick  small sizes, to validate the harness (figures are not meant to be quoted)
 * --only   run a subset (the table keeps the other benchmarks' last results, marked stale)
 * --rounds measured rounds per benchmark (default 5; at least 5 for a quotable table)
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildIfNeeded } from './build-if-needed.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = join(root, 'bench', 'results');

/** Every benchmark, in run order, with its expected duration in seconds (full / quick) for the ETA. */
const BENCHES = [
  { name: 'logger-call', items: '1', seconds: [20, 10] },
  { name: 'publisher', items: '2', seconds: [45, 20] },
  { name: 'pipeline-throughput', items: '3', seconds: [110, 45] },
  { name: 'e2e-latency', items: '4', seconds: [90, 45] },
  { name: 'fluentd-acks', items: '5', seconds: [30, 12] },
  { name: 'worker-overhead', items: '6', seconds: [180, 25] },
  { name: 'memory', items: '7', seconds: [60, 35] },
  { name: 'pipeline-scaling', items: '8', seconds: [60, 35] },
  { name: 'status-latency', items: 'extra', seconds: [40, 20] },
];
/** A benchmark that runs longer than this many times its estimate is stopped. */
const TIMEOUT_FACTOR = 4;

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, rounds: { type: 'string' } },
});
const quick = values.quick;
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
if (only) for (const n of only) if (!BENCHES.some((b) => b.name === n)) fail(`unknown benchmark "${n}"; known: ${BENCHES.map((b) => b.name).join(', ')}`);
const selected = BENCHES.filter((b) => !only || only.has(b.name));
const extraArgs = [...(quick ? ['--quick'] : []), ...(values.rounds ? ['--rounds', values.rounds] : [])];

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

const secs = (ms) => `${Math.round(ms / 1000)}s`;
const estimate = (b) => b.seconds[quick ? 1 : 0] * 1000;

/** Runs one benchmark; resolves with { code, ms }. Output is passed through, indented. */
function runOne(bench) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', `${bench.name}.ts`), ...extraArgs], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const indent = (stream, out) => {
      let rest = '';
      stream.on('data', (d) => {
        const lines = (rest + d.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) out.write(`    ${line}\n`);
      });
      stream.on('end', () => rest && out.write(`    ${rest}\n`));
    };
    indent(child.stdout, process.stdout);
    indent(child.stderr, process.stderr);
    const limitMs = estimate(bench) * TIMEOUT_FACTOR;
    const timer = setTimeout(() => {
      console.error(`    ${bench.name}: still running after ${secs(limitMs)}; stopping it`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, limitMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 1 : 0), ms: Date.now() - started });
    });
  });
}

function readResult(name, since) {
  const file = join(resultsDir, `${name}.json`);
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(r.figures)) return undefined;
    return { ...r, stale: statSync(file).mtimeMs < since };
  } catch {
    return undefined;
  }
}

const fmt = (n) => {
  if (typeof n !== 'number' || !Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  return n.toFixed(a >= 1 ? 2 : 3);
};
const mmm = (s) => `${fmt(s.min)} / **${fmt(s.median)}** / ${fmt(s.max)}`;
const targetText = (t) => (t ? `${t.on === 'ours' ? 'value' : 'ratio'} ${t.op} ${t.value}${t.aim !== undefined ? ` (aim ${t.aim})` : ''}` : '—');
const verdict = (f) => (f.pass === undefined ? '—' : f.pass ? 'pass' : '**miss**');
const cell = (s) => String(s).replaceAll('|', '\\|');

function markdownTable(results, meta) {
  const lines = [
    `Measured ${meta.at} on ${meta.cpus} × ${meta.cpuModel}, Node ${meta.node}, Redis ${meta.redis}` +
      `${meta.quick ? ' — **quick run (small sizes): validates the harness, not quotable**' : ''}.`,
    'Each cell is min / **median** / max over the rounds; the ratio is ours ÷ anchor per round (both measured in the same round).',
    '',
    '| # | figure | ours | anchor (same run) | ratio | target | result |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    for (const f of r.figures) {
      const ours = `${mmm(f.ours)} ${f.unit}`;
      const anchor = `${cell(f.anchor.what)}: ${mmm(f.anchor)} ${f.anchor.unit ?? f.unit}`;
      const label = `${cell(f.label)}${r.stale ? ' *(stale: not re-run)*' : ''}`;
      lines.push(`| ${f.id} | ${label} | ${ours} | ${anchor} | ${mmm(f.ratio)} | ${targetText(f.target)} | ${verdict(f)} |`);
    }
  }
  const missing = selected.filter((b) => !results.some((r) => r.name === b.name)).map((b) => b.name);
  if (missing.length > 0) lines.push('', `No result (failed or not run): ${missing.join(', ')}.`);
  return lines.join('\n');
}

function redisVersion() {
  return new Promise((resolve) => {
    const child = spawn('redis-cli', ['-u', process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', 'INFO', 'server'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', () => resolve('unknown'));
    child.on('exit', () => resolve(/redis_version:(\S+)/.exec(out)?.[1] ?? 'unknown'));
  });
}

function writeMarkdown(table) {
  const file = join(root, 'BENCHMARKS.md');
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  const section = `${start}\n${table}\n${end}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n## Latest results\n\n${start}\n${end}\n`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  text = a >= 0 && b > a ? text.slice(0, a) + section + text.slice(b + end.length) : `${text.trimEnd()}\n\n## Latest results\n\n${section}\n`;
  writeFileSync(file, text);
}

async function main() {
  // Benchmarks run the built dist/ where they can (bench/lib/code-root.ts): build it first.
  process.chdir(root);
  buildIfNeeded();
  const startedAll = Date.now();
  const outcomes = [];
  console.log(`jobscope bench: ${selected.length} benchmarks${quick ? ' (quick)' : ''}, about ${secs(selected.reduce((n, b) => n + estimate(b), 0))}`);
  for (const [i, bench] of selected.entries()) {
    const left = selected.slice(i).reduce((n, b) => n + estimate(b), 0);
    console.log(`\n[${i + 1}/${selected.length}] ${bench.name} (item ${bench.items})  elapsed ${secs(Date.now() - startedAll)}  ETA ${secs(left)}`);
    const { code, ms } = await runOne(bench);
    outcomes.push({ name: bench.name, code, seconds: Math.round(ms / 100) / 10 });
    console.log(`[${i + 1}/${selected.length}] ${bench.name} ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${secs(ms)}`);
  }
  const results = BENCHES.map((b) => readResult(b.name, startedAll)).filter((r) => r !== undefined);
  const cpu = cpus();
  const meta = { at: new Date().toISOString(), node: process.version, cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', redis: await redisVersion(), quick, totalSeconds: Math.round((Date.now() - startedAll) / 1000) };
  const table = markdownTable(results, meta);
  writeFileSync(join(resultsDir, 'summary.json'), `${JSON.stringify({ ...meta, runs: outcomes, results }, null, 2)}\n`);
  writeMarkdown(table);
  console.log(`\n${table}\n\nall done in ${secs(Date.now() - startedAll)}; wrote bench/results/summary.json and BENCHMARKS.md`);
  const failed = outcomes.filter((o) => o.code !== 0);
  if (failed.length > 0) {
    console.error(`failed: ${failed.map((f) => f.name).join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
