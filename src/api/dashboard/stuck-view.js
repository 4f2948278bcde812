import { apiGet } from './api.js';
import { empty, errorBox, h, replace } from './dom.js';
import { formatDuration } from './format.js';
import { JOB_HEADERS, jobCells } from './job-row.js';

// Jobs that need a look: stuck (no event past the service threshold), orphaned (their worker
// is dead), waiting too long in the queue. Re-read every 10 s while the view is shown.

const GROUPS = [
  ['stuck', 'Stuck', 'No event for longer than the service threshold. Check the worker log for the job.'],
  ['orphaned', 'Orphaned', 'The worker running them stopped sending heartbeats. Check or restart that worker; BullMQ will retry them when it notices.'],
  ['waitingTooLong', 'Waiting too long', 'Received but not started past the threshold. Add workers or check that they are consuming the queue.'],
];

/** Creates the view in `root`. */
export function createStuckView(root, { onOpenJob }) {
  const body = h('div');
  replace(root, body);
  body.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr) onOpenJob(tr.dataset.id);
  });

  async function load() {
    try {
      const res = await apiGet('/api/stuck');
      const total = GROUPS.reduce((n, [key]) => n + (res[key] || []).length, 0);
      replace(
        body,
        total === 0 ? empty('Nothing stuck, orphaned or waiting too long.', 'Jobs show up here as soon as they cross a threshold.') : null,
        GROUPS.map(([key, title, advice]) => section(title, advice, res[key] || [])),
        thresholds(res.thresholds || {}),
      );
    } catch (err) {
      replace(body, errorBox(err));
    }
  }

  return { load };
}

function section(title, advice, jobs) {
  if (!jobs.length) return null;
  return h(
    'section',
    { class: 'stuck-group' },
    h('h3', { text: `${title} (${jobs.length})` }),
    h('p', { class: 'muted', text: advice }),
    h('table', { class: 'jobs' }, h('thead', {}, h('tr', {}, JOB_HEADERS.map((t) => h('th', { text: t })))), h('tbody', {}, jobs.map((j) => h('tr', { tabindex: '0', dataset: { id: j.id } }, jobCells(j))))),
  );
}

function thresholds(map) {
  const entries = Object.entries(map);
  if (!entries.length) return null;
  return h('p', { class: 'muted small', text: `Stuck thresholds: ${entries.map(([svc, ms]) => `${svc} ${formatDuration(ms)}`).join(' · ')}` });
}
