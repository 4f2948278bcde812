/**
 * Plain-text tables for the terminal: columns sized to their content, capped so one long
 * value (an error message, a job id) cannot push the rest off screen.
 */

/** One column. */
export interface TableColumn<R> {
  header: string;
  /** The cell text of a row. */
  value(row: R): string;
  /** Widest the column may get, in characters; longer cells end in `…`. Default 40. */
  maxWidth?: number;
  /** Right-align (numbers). Default false. */
  alignRight?: boolean;
}

/** Renders rows as a table with a header line; returns the text (ending in a newline). */
export function renderTable<R>(columns: readonly TableColumn<R>[], rows: readonly R[]): string {
  const cells = rows.map((row) => columns.map((c) => clip(clean(c.value(row)), c.maxWidth ?? 40)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => (columns[i]!.alignRight ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** Cuts `text` to `max` characters, ending in `…` when cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Removes control characters (values come from producers: never let them drive the terminal). */
export function clean(text: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}
