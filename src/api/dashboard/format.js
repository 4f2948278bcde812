import { h } from './dom.js';

// Formatting shared by every view: durations, times (relative with the absolute one on hover,
// refreshed by refreshTimes), money and percentages.

/** 850ms, 12.3s, 4m05s, 2h03m; '–' when unknown. */
export function formatDuration(ms) {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)}s`;
  const sec = Math.round(ms / 1000);
  if (sec < 3600) return `${Math.floor(sec / 60)}m${String(sec % 60).padStart(2, '0')}s`;
  return `${Math.floor(sec / 3600)}h${String(Math.floor((sec % 3600) / 60)).padStart(2, '0')}m`;
}

/** '5s ago', '3m ago', 'just now'. */
export function formatAgo(time, now = Date.now()) {
  if (!time) return '–';
  const delta = now - time;
  if (delta < 1500) return 'just now';
  const s = Math.round(delta / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** Local absolute time with the zone offset: 2025-01-31 12:34:56.789 (UTC+01:00). */
export function formatTime(time) {
  if (!time) return '–';
  const d = new Date(time);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const zone = `UTC${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)} (${zone})`;
}

/** A <time> element showing the relative time, the absolute one on hover. */
export function timeEl(time) {
  if (!time) return h('span', { text: '–' });
  return h('time', { datetime: new Date(time).toISOString(), title: formatTime(time), dataset: { t: String(time) }, text: formatAgo(time) });
}

/** Refreshes the relative text of every <time data-t> under `root`. */
export function refreshTimes(root) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time[data-t]')) el.textContent = formatAgo(Number(el.dataset.t), now);
}

/** $0.0123 / $12.40; '–' when unknown. */
export function formatUsd(usd) {
  if (usd === undefined || usd === null) return '–';
  return usd < 1 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/** 42%; '–' when unknown. */
export function formatPercent(v) {
  return v === undefined || v === null ? '–' : `${Math.round(v)}%`;
}
