import { apiGet } from './api.js';
import { errorBox, h, replace } from './dom.js';
import { lineChart, stackedBars } from './charts.js';
import { formatDuration, formatUsd } from './format.js';

// Throughput, latency and cost over a window from /api/stats: headline numbers and three small
// charts. Re-read every 15 s while shown.

const WINDOWS = [
  ['900000', '15 min'],
  ['3600000', '1 hour'],
  ['21600000', '6 hours'],
  ['86400000', '24 hours'],
];

/** Creates the view in `root`. */
export function createStatsView(root) {
  const windowSelect = h('select', { 'aria-label': 'Window', onchange: () => load() }, WINDOWS.map(([v, t]) => h('option', { value: v, text: t, selected: v === '3600000' })));
  const body = h('div');
  replace(root, h('div', { class: 'filters' }, h('label', { text: 'Window ' }, windowSelect)), body);

  async function load() {
    try {
      replace(body, render(await apiGet('/api/stats', { window: windowSelect.value })));
    } catch (err) {
      replace(body, errorBox(err));
    }
  }
  return { load };
}

/** When throughput is over less than the window: over how long (the store's data begins later, or the read was capped). */
function spanNote(st) {
  const span = st.throughputSpanMs;
  if (span === undefined || span >= st.windowMs - 1000) return '';
  return ` over the last ${formatDuration(span)}`;
}

function render(st) {
  const tiles = [
    ['Throughput', `${st.throughputPerMin.toFixed(1)}/min${spanNote(st)}`],
    ['Duration p50 / p95', `${formatDuration(st.durationMs.p50)} / ${formatDuration(st.durationMs.p95)}`],
    ['Queue wait p50 / p95', `${formatDuration(st.queueWaitMs.p50)} / ${formatDuration(st.queueWaitMs.p95)}`],
    ['Error rate', `${(st.errorRate * 100).toFixed(1)}%`],
    ['Cost', formatUsd(st.costUsd.total)],
  ];
  const buckets = st.buckets || [];
  // Above the scan's bound the figures cover only the newest jobs of the window: say so, not a smaller total.
  const capped = st.capped
    ? h('p', { class: 'note', role: 'note', text: `Based on the newest ${st.scanned} jobs of this window only (the server reads at most that many, JOBSCOPE_INSIGHTS_MAX_JOBS): older jobs, their cost included, are not counted. Pick a shorter window.` })
    : null;
  return [
    capped,
    h('div', { class: 'tiles' }, tiles.map(([k, v]) => h('div', { class: 'tile' }, h('span', { class: 'tile-k', text: k }), h('span', { class: 'tile-v', text: v })))),
    h(
      'div',
      { class: 'charts' },
      stackedBars({
        title: 'Jobs finished',
        rows: buckets,
        series: [
          { key: 'completed', className: 'c-ok', label: 'completed' },
          { key: 'failed', className: 'c-bad', label: 'failed' },
        ],
        format: (v) => String(Math.round(v)),
      }),
      lineChart({ title: 'Duration p50', rows: buckets.map((b) => ({ t: b.t, value: b.p50DurationMs })), format: formatDuration, className: 'c-line' }),
      stackedBars({ title: 'Cost', rows: buckets, series: [{ key: 'costUsd', className: 'c-cost', label: 'USD' }], format: formatUsd }),
    ),
    breakdown('Cost by model', st.costUsd.byModel),
    breakdown('Cost by service', st.costUsd.byService),
  ];
}

function breakdown(title, map) {
  const rows = Object.entries(map || {}).sort((a, b) => b[1] - a[1]).slice(0, 10);
  if (!rows.length) return null;
  return h('section', { class: 'breakdown' }, h('h3', { text: title }), h('table', {}, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('td', { text: k }), h('td', { class: 'num', text: formatUsd(v) }))))));
}
