import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { pairedRatios, summarize, type Summary } from './stats.js';

/**
 * The one result shape every benchmark writes to `bench/results/<name>.json`, which
 * `scripts/bench.mjs` collects into `bench/results/summary.json` and `BENCHMARKS.md`:
 * a list of figures, each beside the anchor measured in the same run, with the per-round
 * ratio ours/anchor, the target and whether the median met it.
 */

/** A target: `ratio` (default) or `ours` (an absolute bound, e.g. MB) compared with `op`. */
export interface Target {
  op: '<=' | '>=';
  value: number;
  /** The value to aim for (the issue's "aim"), shown beside the target. */
  aim?: number;
  /** What the target bounds: the median ratio (default) or the median figure itself. */
  on?: 'ratio' | 'ours';
}

/** One measured figure beside its anchor. */
export interface Figure {
  /** Issue item, e.g. `1`, `3b`, `4-status-5k-p99`. */
  id: string;
  label: string;
  unit: string;
  ours: Summary;
  anchor: Summary & { what: string; unit?: string };
  /** Per-round ours/anchor (paired), min/median/max. */
  ratio: Summary;
  target?: Target;
  /** Median (ratio or figure, per `target.on`) against the target; absent without target. */
  pass?: boolean;
  note?: string;
}

/** What a benchmark writes. */
export interface BenchResult {
  name: string;
  title: string;
  quick: boolean;
  rounds: number;
  figures: Figure[];
  /** Sizes and settings of the run. */
  settings: Record<string, unknown>;
  /** Anything else worth keeping (raw numbers, counters). */
  details?: Record<string, unknown>;
  measuredAt: string;
  machine: { node: string; cpus: number; cpuModel: string };
}

/** What {@link makeFigure} needs. */
export interface FigureInput {
  id: string;
  label: string;
  unit: string;
  ours: readonly number[];
  anchor: readonly number[];
  anchorWhat: string;
  anchorUnit?: string;
  target?: Target;
  note?: string;
}

/** Builds a {@link Figure} from per-round values (ours[i] and anchor[i] from the same round). */
export function makeFigure(f: FigureInput): Figure {
  const ratio = summarize(pairedRatios(f.ours, f.anchor));
  const anchor: Figure['anchor'] = { what: f.anchorWhat, ...summarize(f.anchor) };
  if (f.anchorUnit !== undefined) anchor.unit = f.anchorUnit;
  const out: Figure = { id: f.id, label: f.label, unit: f.unit, ours: summarize(f.ours), anchor, ratio };
  if (f.target) {
    out.target = f.target;
    const value = f.target.on === 'ours' ? out.ours.median : ratio.median;
    out.pass = f.target.op === '<=' ? value <= f.target.value : value >= f.target.value;
  }
  if (f.note !== undefined) out.note = f.note;
  return out;
}

/** Compact number: 3 significant digits below 1000, integers above. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  return n.toFixed(a >= 1 ? 2 : 3);
}

function targetText(t: Target | undefined): string {
  if (!t) return '';
  return `${t.on === 'ours' ? 'value' : 'ratio'} ${t.op} ${t.value}${t.aim !== undefined ? ` (aim ${t.aim})` : ''}`;
}

/** Prints one line per figure: ours, anchor, ratio (min/median/max), target and verdict. */
export function printFigures(figures: readonly Figure[]): void {
  for (const f of figures) {
    const s = (x: Summary) => `${fmt(x.min)} / ${fmt(x.median)} / ${fmt(x.max)}`;
    const verdict = f.pass === undefined ? '' : f.pass ? '  PASS' : '  MISS';
    console.log(`[${f.id}] ${f.label}: ${s(f.ours)} ${f.unit}  | anchor ${f.anchor.what}: ${s(f.anchor)} ${f.anchor.unit ?? f.unit}`);
    console.log(`      ratio min/median/max ${s(f.ratio)}  ${targetText(f.target)}${verdict}`);
  }
}

/** Writes `bench/results/<name>.json` in the common shape and prints the figures. */
export function writeResult(r: Omit<BenchResult, 'measuredAt' | 'machine'>): BenchResult {
  const cpu = cpus();
  const full: BenchResult = {
    ...r,
    measuredAt: new Date().toISOString(),
    machine: { node: process.version, cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown' },
  };
  printFigures(full.figures);
  const dir = new URL('../results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(new URL(`${r.name}.json`, dir), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}
