import { apiGet } from './api.js';
import { empty, errorBox, h, replace } from './dom.js';
import { timeEl } from './format.js';

// Failures grouped by fingerprint: count, first/last seen, and an example job to open.

const WINDOWS = [
  ['3600000', 'last hour'],
  ['86400000', 'last 24 h'],
  ['604800000', 'last 7 days'],
];

/** Creates the view in `root`. */
export function createErrorsView(root, { onOpenJob }) {
  const windowSelect = h('select', { 'aria-label': 'Window', onchange: () => load() }, WINDOWS.map(([v, t]) => h('option', { value: v, text: t, selected: v === '86400000' })));
  const list = h('div');
  replace(root, h('div', { class: 'filters' }, h('label', { text: 'Errors in the ' }, windowSelect)), list);

  async function load() {
    try {
      const res = await apiGet('/api/errors', { window: windowSelect.value });
      const groups = [...res.groups].sort((a, b) => b.count - a.count);
      replace(
        list,
        groups.length
          ? h(
              'table',
              { class: 'errors' },
              h('thead', {}, h('tr', {}, ['Count', 'Service', 'Error', 'Message', 'First seen', 'Last seen', 'Example'].map((t) => h('th', { text: t })))),
              h('tbody', {}, groups.map((g) => groupRow(g, onOpenJob))),
            )
          : empty('No failures in this window.', 'Good news. Widen the window to look further back.'),
      );
    } catch (err) {
      replace(list, errorBox(err));
    }
  }

  return { load };
}

function groupRow(g, onOpenJob) {
  return h(
    'tr',
    {},
    h('td', { class: 'num', text: String(g.count) }),
    h('td', { text: g.serviceType }),
    h('td', {}, h('span', { class: 'mono', text: g.errorType }), h('span', { class: 'badge', text: g.category })),
    h('td', { class: 'msg', title: g.message, text: g.message }),
    h('td', {}, timeEl(g.firstSeen)),
    h('td', {}, timeEl(g.lastSeen)),
    h('td', {}, h('button', { type: 'button', class: 'link mono', text: g.exampleJobId, onclick: () => onOpenJob(g.exampleJobId) })),
  );
}
