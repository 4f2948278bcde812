import { h } from './dom.js';
import { refreshTimes } from './format.js';
import { createErrorsView } from './errors-view.js';
import { createJobDetail } from './job-detail.js';
import { createJobsView } from './jobs-view.js';
import { startLiveFeed } from './live.js';
import { createStatsView } from './stats-view.js';
import { createStuckView } from './stuck-view.js';
import { createWorkersView } from './workers-view.js';

// Entry point: builds the views, switches tabs, and routes the live feed to the views.

const $ = (id) => document.getElementById(id);
const detail = createJobDetail($('detail'));
const openJob = (id) => void detail.open(id);

const views = {
  jobs: createJobsView($('view-jobs'), { onOpenJob: openJob }),
  workers: createWorkersView($('view-workers'), { onOpenJob: openJob }),
  errors: createErrorsView($('view-errors'), { onOpenJob: openJob }),
  stuck: createStuckView($('view-stuck'), { onOpenJob: openJob }),
  stats: createStatsView($('view-stats')),
};
/** Views re-read on a timer while shown, in ms (the feed does not carry what they show). */
const POLL_MS = { stuck: 10000, stats: 15000, errors: 30000 };
let current = 'jobs';
let pollTimer;

function show(name) {
  current = name;
  for (const key of Object.keys(views)) {
    $(`view-${key}`).hidden = key !== name;
    const tab = $(`tab-${key}`);
    tab.setAttribute('aria-selected', String(key === name));
    tab.classList.toggle('active', key === name);
  }
  window.clearInterval(pollTimer);
  void views[name].load();
  if (POLL_MS[name]) pollTimer = window.setInterval(() => void views[name].load(), POLL_MS[name]);
}

for (const key of Object.keys(views)) $(`tab-${key}`).addEventListener('click', () => show(key));

const badge = $('conn');
const STATE_TEXT = {
  connecting: ['connecting…', 'Opening the live stream'],
  live: ['live', 'Receiving changes as they happen'],
  reconnecting: ['reconnecting…', 'The live stream dropped; the browser is reconnecting and will resume where it stopped'],
  closed: ['offline', 'The live stream is closed (API down or token refused); retrying every 5 s. What you see may be out of date.'],
};

startLiveFeed({
  onState(state) {
    const [text, title] = STATE_TEXT[state];
    badge.textContent = text;
    badge.title = title;
    badge.dataset.state = state;
  },
  onBatch(entries) {
    const jobEntries = entries.filter((e) => e.kind === 'job');
    if (jobEntries.length) views.jobs.applyBatch(jobEntries);
    detail.applyBatch(jobEntries);
    views.workers.applyBatch(entries, current === 'workers');
  },
  onOverflow() {
    void views.jobs.resync();
  },
});

window.setInterval(() => refreshTimes(document.body), 5000);
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') detail.hide();
});
$('footer-note').append(h('span', { text: `Times are shown relative; hover for the exact local time.` }));
show('jobs');
