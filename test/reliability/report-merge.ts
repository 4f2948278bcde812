/**
 * Merges a partial run of `npm run reliability <ids…>` into the existing report: the table rows
 * and check lines of the scenarios that ran are replaced, the others are kept, rows ordered by
 * scenario number (stable within one scenario).
 */

interface ReportParts {
  rows: string[];
  checks: string[];
}

const scenarioId = (line: string): number => Number(/^(?:\| |- )(\d+) /.exec(line)?.[1] ?? Number.MAX_SAFE_INTEGER);

function parts(markdown: string): ReportParts {
  const lines = markdown.split('\n');
  return {
    rows: lines.filter((l) => /^\| \d+ /.test(l)),
    checks: lines.filter((l) => /^- \d+ /.test(l)),
  };
}

const byScenario = (a: string, b: string): number => scenarioId(a) - scenarioId(b);

/**
 * The table of `fresh` (a `resultsTable` output) with the rows and checks of `previous` (an
 * earlier report) for every scenario id not in `ran` kept.
 */
export function mergeResultsTable(previous: string, fresh: string, ran: readonly string[]): string {
  const old = parts(previous);
  const now = parts(fresh);
  const keep = (l: string) => !ran.includes(String(scenarioId(l)));
  const rows = [...old.rows.filter(keep), ...now.rows].sort(byScenario);
  const checks = [...old.checks.filter(keep), ...now.checks].sort(byScenario);
  const head = fresh.split('\n').slice(0, 2);
  return `${[...head, ...rows].join('\n')}\n\nChecks:\n\n${checks.join('\n')}\n`;
}
