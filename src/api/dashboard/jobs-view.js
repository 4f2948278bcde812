import { apiGet } from './api.js';
import { empty, errorBox, h, replace } from './dom.js';
import { JOB_HEADERS, jobCells, mergeEntry } from './job-row.js';
import { createStateCounts } from './state-counts.js';
import { createJobFilters } from './job-filters.js';

// The live jobs table: one page (PAGE_SIZE rows) from GET /api/jobs, cursor paging, filters;
// feed entries update the visible rows in place and prepend new jobs on the first page.
// Nothing outside the page is held, so 10,000 jobs in the store cost the same as 100.

const PAGE_SIZE = 100;

/** Creates the view in `root`; `onOpenJob(id)` opens a job's detail. */
export function createJobsView(root, { onOpenJob }) {
  const rows = new Map(); // job id → { tr, job } (only the visible page)
  const cursors = []; // cursors of the pages before the current one
  let cursor;
  let nextCursor;
  let loading = 0;
  let refreshTimer;
  const status = h('div', { class: 'status-line', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const table = h('table', { class: 'jobs' }, h('thead', {}, h('tr', {}, JOB_HEADERS.map((t) => h('th', { text: t })))), tbody);
  const emptyBox = h('div');
  const prev = h('button', { type: 'button', text: '← Newer', onclick: () => go(cursors.pop(), false) });
  const next = h('button', { type: 'button', text: 'Older →', onclick: () => go(nextCursor, true) });
  const pageLabel = h('span', { class: 'muted' });
  const counts = createStateCounts({ onPick: (state) => filters.setState(state) });
  const filters = createJobFilters({ onChange: () => ((cursors.length = 0), go(undefined, false)) });

  tbody.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr) onOpenJob(tr.dataset.id);
  });
  tbody.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr && ev.key === 'Enter') onOpenJob(tr.dataset.id);
  });
  replace(root, counts.el, filters.el, status, h('div', { class: 'table-wrap' }, table), emptyBox, h('div', { class: 'pager' }, prev, pageLabel, next));

  function rowFor(job) {
    const tr = h('tr', { tabindex: '0', dataset: { id: job.id, state: job.state } }, jobCells(job));
    rows.set(job.id, { tr, job });
    return tr;
  }

  async function go(target, forward) {
    if (forward && target) cursors.push(cursor);
    cursor = target;
    await load();
  }

  async function load(quiet = false) {
    const ticket = ++loading;
    if (!quiet) status.textContent = 'Loading…';
    try {
      const page = await apiGet('/api/jobs', { ...filters.query(), limit: PAGE_SIZE, cursor });
      if (ticket !== loading) return; // a newer load superseded this one
      rows.clear();
      tbody.replaceChildren(...page.jobs.map(rowFor));
      nextCursor = page.nextCursor;
      status.textContent = '';
      showPaging();
    } catch (err) {
      if (ticket === loading) replace(status, errorBox(err));
    }
  }

  function showPaging() {
    prev.disabled = cursors.length === 0 && cursor === undefined;
    next.disabled = !nextCursor;
    pageLabel.textContent = `page ${cursors.length + (cursor === undefined ? 1 : 2)} · ${rows.size} shown`;
    const filtered = Object.keys(filters.query()).length > 0;
    replace(
      emptyBox,
      rows.size
        ? null
        : filtered
          ? empty('No jobs match these filters.', 'Clear or widen the filters above.')
          : empty('No jobs yet.', 'Jobs appear here live as soon as a job worker reports one. Check that workers and the pipeline worker run (jobscope doctor).'),
    );
  }

  /** Applies a batch of job feed entries to the visible rows and the counters. */
  function applyBatch(entries) {
    const onFirstPage = cursor === undefined && cursors.length === 0;
    flash.skip = entries.length > 50; // a burst: skip the per-row animation (it forces layout)
    for (const e of entries) {
      counts.apply(e);
      const seen = rows.get(e.jobId);
      if (seen) {
        const job = mergeEntry(seen.job, e);
        seen.job = job;
        seen.tr.dataset.state = job.state;
        seen.tr.classList.toggle('out-of-filter', !filters.matches(job));
        seen.tr.replaceChildren(...jobCells(job));
        flash(seen.tr);
        if (job.finishedAt) scheduleRefresh();
      } else if (onFirstPage && filters.matches(mergeEntry(undefined, e)) && filters.canMatchLive()) {
        const tr = rowFor(mergeEntry(undefined, e));
        tbody.prepend(tr);
        flash(tr);
        trimPage();
      }
    }
    showPaging();
  }

  // The feed carries state and progress, not model, usage or flags: when a visible job
  // finishes, re-read the page once (at most every 3 s) so those cells catch up.
  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined;
      void load(true);
    }, 3000);
  }

  function trimPage() {
    while (rows.size > PAGE_SIZE) {
      const last = tbody.lastElementChild;
      rows.delete(last.dataset.id);
      last.remove();
    }
  }

  return {
    load: () => Promise.all([load(), counts.load()]),
    applyBatch,
    /** After dropped feed entries: re-read the page and counters. */
    resync: () => Promise.all([load(), counts.load()]),
  };
}

function flash(tr) {
  if (flash.skip) return;
  tr.classList.remove('flash');
  void tr.offsetWidth; // restart the CSS animation
  tr.classList.add('flash');
}
