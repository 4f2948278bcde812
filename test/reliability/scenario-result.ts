import { verdictPasses, type SinkVerdict } from './oracle.js';

/**
 * What one scenario run reports: the oracle's verdict per sink, and the scenario's own pass
 * criteria (reclaim time, drain deadline, crash count, memory growth …) as named checks.
 * The same object feeds the vitest assertions (CI mode) and the table (full mode).
 */

/** One pass criterion beyond the oracle's counts. */
export interface ScenarioCheck {
  name: string;
  ok: boolean;
  /** The measured value, in words (e.g. `reclaimed in 1830 ms, limit 2000 ms`). */
  detail: string;
}

/** The result of one scenario run. */
export interface ScenarioResult {
  /** e.g. `1 sigkill pipeline (seed 3)`. */
  scenario: string;
  verdicts: SinkVerdict[];
  checks: ScenarioCheck[];
}

/** Builds a check. */
export function check(name: string, ok: boolean, detail: string): ScenarioCheck {
  return { name, ok, detail };
}

/** True when every sink verdict and every check passed. */
export function scenarioPasses(r: ScenarioResult): boolean {
  return r.verdicts.every(verdictPasses) && r.checks.every((c) => c.ok);
}

/** A readable account of what failed, for an assertion message. */
export function describeFailures(r: ScenarioResult): string {
  const lines: string[] = [];
  for (const v of r.verdicts) {
    if (!verdictPasses(v)) {
      lines.push(
        `${v.sink}: produced ${v.produced}, delivered ${v.delivered}, dead-lettered ${v.deadLettered}, missing ${v.missing}, unexpected ${v.unexpected}` +
          (v.missingSample.length > 0 ? `; e.g. ${v.missingSample.slice(0, 3).join(', ')}` : ''),
      );
    }
  }
  for (const c of r.checks) if (!c.ok) lines.push(`${c.name}: ${c.detail}`);
  return lines.length === 0 ? `${r.scenario}: pass` : `${r.scenario} failed:\n  ${lines.join('\n  ')}`;
}

const HEADER = '| scenario | sink | produced | delivered | duplicates | dead-lettered | missing | pass/fail |';

/** The results as a Markdown table, one row per scenario and sink; failed checks listed below. */
export function resultsTable(results: readonly ScenarioResult[]): string {
  const rows = [HEADER, '|---|---|---:|---:|---:|---:|---:|---|'];
  const notes: string[] = [];
  for (const r of results) {
    const pass = scenarioPasses(r) ? 'pass' : 'FAIL';
    for (const v of r.verdicts) {
      rows.push(`| ${r.scenario} | ${v.sink} | ${v.produced} | ${v.delivered} | ${v.duplicates} | ${v.deadLettered} | ${v.missing} | ${pass} |`);
    }
    for (const c of r.checks) notes.push(`- ${r.scenario} — ${c.name}: ${c.ok ? 'ok' : 'FAILED'} (${c.detail})`);
  }
  return `${rows.join('\n')}\n\nChecks:\n\n${notes.join('\n')}\n`;
}
