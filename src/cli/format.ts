/**
 * How the CLI writes times, durations, money and progress: short, and the same in every command.
 */

/** A duration in ms as `850ms`, `12.3s`, `4m05s`, `2h03m`; `-` when unknown. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** How long ago `time` (Unix ms) was, from `now`: `5s ago`, `3m ago`, `in 2s`; `-` when unknown. */
export function formatAgo(time: number | undefined, now: number = Date.now()): string {
  if (time === undefined) return '-';
  const delta = now - time;
  if (Math.abs(delta) < 1000) return 'now';
  return delta >= 0 ? `${formatDuration(delta).replace(/\.\d/, '')} ago` : `in ${formatDuration(-delta).replace(/\.\d/, '')}`;
}

/** Unix ms as an absolute local-independent timestamp: `2025-01-31 12:34:56Z`. */
export function formatTime(time: number | undefined): string {
  if (time === undefined) return '-';
  return new Date(time).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** Both: `2025-01-31 12:34:56Z (5s ago)`. */
export function formatWhen(time: number | undefined, now: number = Date.now()): string {
  return time === undefined ? '-' : `${formatTime(time)} (${formatAgo(time, now)})`;
}

/** US dollars: `$0.0123`, `$12.40`; `-` when unknown. */
export function formatUsd(usd: number | undefined): string {
  if (usd === undefined) return '-';
  return usd < 1 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** A percentage: `42%`; `-` when unknown. */
export function formatPercent(value: number | undefined): string {
  return value === undefined ? '-' : `${Math.round(value)}%`;
}
