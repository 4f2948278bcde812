import { h, s } from './dom.js';

// Small hand-drawn SVG charts (no library): stacked bars and a line, scaled to a viewBox so
// they stretch to their container. Each bar/point has a <title> for the exact value.

const W = 320;
const H = 90;
const PAD = 18;

/** Stacked bars: `series` = [{ key, className, label }], `rows` = [{ t, [key]: number }]. */
export function stackedBars({ title, rows, series, format }) {
  const totals = rows.map((r) => series.reduce((n, se) => n + (r[se.key] || 0), 0));
  const max = Math.max(0, ...totals) || 1; // no floor at 1: cost in cents must still show
  const bw = (W - PAD) / Math.max(1, rows.length);
  const bars = rows.map((r, i) => {
    let y = H - PAD;
    return series.map((se) => {
      const v = r[se.key] || 0;
      const bh = ((H - 2 * PAD) * v) / max;
      y -= bh;
      return v > 0 ? s('rect', { x: PAD + i * bw + 1, y, width: Math.max(1, bw - 2), height: bh, class: se.className }, s('title', { text: `${time(r.t)} · ${se.label}: ${format(v)}` })) : null;
    });
  });
  return frame(title, max, format, bars, series);
}

/** A line with dots: `rows` = [{ t, value }] (undefined values leave gaps). */
export function lineChart({ title, rows, format, className }) {
  const values = rows.map((r) => r.value).filter((v) => v !== undefined && v !== null);
  const max = Math.max(0, ...values) || 1;
  const step = (W - PAD) / Math.max(1, rows.length - 1);
  const pts = rows.map((r, i) => (r.value === undefined || r.value === null ? null : [PAD + i * step, H - PAD - ((H - 2 * PAD) * r.value) / max, r]));
  let d = '';
  let pen = false;
  for (const p of pts) {
    if (!p) pen = false;
    else {
      d += `${pen ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)} `;
      pen = true;
    }
  }
  const dots = pts.filter(Boolean).map(([x, y, r]) => s('circle', { cx: x, cy: y, r: 2, class: className }, s('title', { text: `${time(r.t)}: ${format(r.value)}` })));
  return frame(title, max, format, [d ? s('path', { d, class: `line ${className}` }) : null, dots], []);
}

function frame(title, max, format, marks, series) {
  const svg = s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title },
    s('line', { x1: PAD, y1: H - PAD, x2: W, y2: H - PAD, class: 'axis' }),
    s('text', { x: PAD, y: 10, class: 'axis-label', text: `max ${format(max)}` }),
    marks,
  );
  const legend = series.length ? h('div', { class: 'legend' }, series.map((se) => h('span', { class: `key ${se.className}`, text: se.label }))) : null;
  return h('figure', { class: 'chart-box' }, h('figcaption', { text: title }), svg, legend);
}

function time(t) {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
