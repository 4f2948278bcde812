import { apiGet } from './api.js';
import { errorBox, h, replace } from './dom.js';
import { formatDuration, formatTime, formatUsd, timeEl } from './format.js';
import { progressBar, stateBadges } from './job-row.js';

// The job detail panel: the record, the timeline with the time between steps, the last error
// with its stack, usage and cost, and links to the trace UI and Sentry. While open it re-reads
// the job when the feed reports a change to it.

const LABELS = {
  'job.received': 'Received',
  'job.started': 'Started',
  'job.progress': 'Progress',
  'job.completed': 'Completed',
  'job.failed': 'Failed',
  'job.retrying': 'Retrying',
  'job.cancelled': 'Cancelled',
};

/** Creates the panel in `root` (hidden until a job is opened). */
export function createJobDetail(root) {
  let openId;
  let timer;
  const body = h('div', { class: 'detail-body' });
  const close = h('button', { type: 'button', class: 'close', 'aria-label': 'Close detail', text: '×', onclick: () => hide() });
  replace(root, close, body);

  async function load() {
    const id = openId;
    try {
      const detail = await apiGet(`/api/jobs/${encodeURIComponent(id)}`);
      if (id === openId) replace(body, renderDetail(detail));
    } catch (err) {
      if (id === openId) replace(body, h('h2', { class: 'mono', text: id }), errorBox(err));
    }
  }

  function hide() {
    openId = undefined;
    root.hidden = true;
    document.body.classList.remove('detail-open');
  }

  return {
    open(id) {
      openId = id;
      root.hidden = false;
      document.body.classList.add('detail-open');
      replace(body, h('p', { class: 'muted', text: `Loading ${id}…` }));
      return load();
    },
    hide,
    /** Re-reads the open job when a batch touched it (at most every 250 ms). */
    applyBatch(entries) {
      if (!openId || !entries.some((e) => e.jobId === openId) || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void load();
      }, 250);
    },
  };
}

function renderDetail({ job, timeline, links }) {
  return [
    h('h2', { class: 'mono', text: job.id }),
    h('div', { class: 'detail-state' }, stateBadges(job), h('span', { class: 'muted', text: ` attempt ${job.attempt}` }), progressBar(job.progress, job.state)),
    facts(job),
    renderLinks(links || {}),
    job.lastError ? renderError(job) : null,
    h('h3', { text: 'Timeline' }),
    renderTimeline(timeline || []),
  ];
}

function facts(job) {
  const ai = job.ai || {};
  const rows = [
    ['Identity', `${job.machineId} / ${job.workerId} / ${job.serviceType} / ${job.connectorId}`],
    ['Queue', [job.queue, job.name].filter(Boolean).join(' · ') || '–'],
    ['Queue wait', formatDuration(job.queueWaitMs)],
    ['Duration', formatDuration(job.durationMs)],
    ['Model', ai.model ? `${ai.model}${ai.provider ? ` (${ai.provider})` : ''}` : '–'],
    ['Tokens', ai.inputTokens !== undefined || ai.outputTokens !== undefined ? `${ai.inputTokens ?? '–'} in · ${ai.outputTokens ?? '–'} out` : '–'],
    ['Cost', formatUsd(ai.costUsd)],
    ['Trace id', job.traceId || '–'],
  ];
  return h(
    'dl',
    { class: 'facts' },
    rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]),
    h('dt', { text: 'Updated' }),
    h('dd', {}, timeEl(job.updatedAt), h('span', { class: 'muted small', text: ` ${formatTime(job.updatedAt)}` })),
  );
}

function renderLinks(links) {
  const safe = (url) => typeof url === 'string' && /^https?:\/\//.test(url);
  const items = [
    safe(links.trace) ? h('a', { href: links.trace, target: '_blank', rel: 'noopener noreferrer', text: 'Open trace ↗' }) : null,
    safe(links.sentry) ? h('a', { href: links.sentry, target: '_blank', rel: 'noopener noreferrer', text: 'Open in Sentry ↗' }) : null,
  ].filter(Boolean);
  return items.length ? h('p', { class: 'links' }, items) : null;
}

function renderError(job) {
  const e = job.lastError;
  return h(
    'section',
    { class: 'job-error' },
    h('h3', { text: `${e.type} · ${e.category}${job.willRetry ? ' · will retry' : job.state === 'failed' ? ' · final' : ''}` }),
    h('p', { text: e.message }),
    e.stack ? h('details', {}, h('summary', { text: 'Stack' }), h('pre', { text: e.stack })) : null,
  );
}

/** The timeline: each step with its absolute and relative time and the time since the step before. */
export function renderTimeline(timeline) {
  if (!timeline.length) return h('p', { class: 'muted', text: 'No events kept for this job.' });
  return h(
    'ol',
    { class: 'timeline' },
    timeline.map((e, i) => {
      const gap = i > 0 ? e.time - timeline[i - 1].time : undefined;
      const gapLabel = gap === undefined ? '' : i === 1 && timeline[0].type === 'job.received' && e.type === 'job.started' ? `queue wait ${formatDuration(gap)}` : `+${formatDuration(gap)}`;
      return h(
        'li',
        { class: `tl tl-${e.type.replace('job.', '')}`, dataset: { type: e.type } },
        gapLabel ? h('span', { class: 'tl-gap', text: gapLabel }) : null,
        h('span', { class: 'tl-type', text: LABELS[e.type] || e.type }),
        e.attempt > 1 ? h('span', { class: 'badge', text: `attempt ${e.attempt}` }) : null,
        h('span', { class: 'tl-detail', text: detailOf(e) }),
        h('span', { class: 'tl-time' }, timeEl(e.time), h('span', { class: 'muted small', text: ` ${formatTime(e.time)}` })),
      );
    }),
  );
}

function detailOf(e) {
  const parts = [];
  if (e.progress !== undefined) parts.push(`${Math.round(e.progress)}%`);
  if (e.durationMs !== undefined) parts.push(`took ${formatDuration(e.durationMs)}`);
  if (e.errorType) parts.push(`${e.errorType}: ${e.errorMessage || ''}`);
  if (e.message) parts.push(e.message);
  return parts.join(' · ');
}
