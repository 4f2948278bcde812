import { h } from './dom.js';
import { formatDuration, timeEl } from './format.js';

// One row of the jobs table, built from a JobView (or from a feed entry merged into one).

/** The state badge plus stuck / orphaned / waiting flags. */
export function stateBadges(job) {
  const flags = job.flags || {};
  return [
    h('span', { class: `badge state-${job.state}`, text: job.state }),
    flags.stuck ? h('span', { class: 'badge flag', title: 'No event for longer than the service threshold', text: 'stuck' }) : null,
    flags.orphaned ? h('span', { class: 'badge flag', title: 'Its worker stopped sending heartbeats', text: 'orphaned' }) : null,
    flags.waitingTooLong ? h('span', { class: 'badge flag', title: 'Waiting in the queue past the threshold', text: 'waiting' }) : null,
  ];
}

/** A progress bar with its percentage. */
export function progressBar(progress, state) {
  const pct = state === 'completed' ? 100 : progress;
  if (pct === undefined || pct === null) return h('span', { class: 'muted', text: '–' });
  return h(
    'span',
    { class: 'progress', title: `${Math.round(pct)}%` },
    h('span', { class: 'progress-fill', style: `width:${Math.max(0, Math.min(100, pct))}%` }),
    h('span', { class: 'progress-text', text: `${Math.round(pct)}%` }),
  );
}

/** Duration so far (running) or in total (finished). */
function durationOf(job) {
  if (job.durationMs !== undefined) return formatDuration(job.durationMs);
  if (job.startedAt && !job.finishedAt && job.state === 'running') return `${formatDuration(Date.now() - job.startedAt)}…`;
  return '–';
}

/** The cells of a job row. */
export function jobCells(job) {
  return [
    h('td', { class: 'mono id', title: job.id, text: job.id }),
    h('td', { class: 'state' }, stateBadges(job)),
    h('td', { class: 'num', text: String(job.attempt || 1) }),
    h('td', { text: job.serviceType || '–' }),
    h('td', { class: 'mono small', title: `${job.machineId}/${job.workerId}/${job.connectorId}`, text: `${job.machineId}/${job.workerId}` }),
    h('td', { class: 'small', text: (job.ai && job.ai.model) || '–' }),
    h('td', {}, progressBar(job.progress, job.state)),
    h('td', { class: 'num', text: durationOf(job) }),
    h('td', { class: 'num' }, timeEl(job.updatedAt)),
  ];
}

/** The column headers, in the order of jobCells. */
export const JOB_HEADERS = ['Job', 'State', 'Att.', 'Service', 'Machine / worker', 'Model', 'Progress', 'Duration', 'Updated'];

const FINAL_STATES = ['completed', 'failed', 'cancelled'];
const ATTEMPT_FIELDS = ['receivedAt', 'startedAt', 'finishedAt', 'durationMs', 'progress', 'stage', 'willRetry', 'nextAttempt'];

/**
 * Whether entry e starts a new run of an ended job under an attempt number already used (a job id
 * re-added, or retried with its attempts reset): the store shows it received or running again,
 * after its end, which it never does within a run.
 */
function isNewRun(job, e) {
  return Boolean(job) && FINAL_STATES.includes(job.state) && (e.state === 'received' || e.state === 'running') && e.time > (job.finishedAt || job.updatedAt || 0);
}

/** Merges a feed entry into the job it changes (or starts a job from it). */
export function mergeEntry(job, e) {
  let base = job || { id: e.jobId, machineId: e.machineId, workerId: e.workerId, serviceType: e.serviceType, connectorId: e.connectorId };
  if (isNewRun(job, e)) {
    base = { ...job };
    for (const f of ATTEMPT_FIELDS) delete base[f];
  }
  const next = { ...base, state: e.state || base.state, attempt: e.attempt || base.attempt, updatedAt: e.time, lastEventType: e.eventType };
  if (e.progress !== undefined && e.progress !== null) next.progress = e.progress;
  if (e.eventType === 'job.started') next.startedAt = e.time;
  if (e.eventType === 'job.received' && !base.receivedAt) next.receivedAt = e.time;
  if (e.eventType === 'job.completed' || e.eventType === 'job.failed' || e.eventType === 'job.cancelled') {
    next.finishedAt = e.time;
    if (next.startedAt && next.durationMs === undefined) next.durationMs = e.time - next.startedAt;
  }
  if (e.eventType === 'job.retrying' || (e.eventType === 'job.received' && job && e.attempt > job.attempt)) {
    delete next.finishedAt;
    delete next.durationMs;
  }
  // The event moved the job on: the stuck/orphaned flags of the last read no longer hold.
  if (job && job.flags) next.flags = { waitingTooLong: e.state === 'received' ? job.flags.waitingTooLong : false };
  return next;
}
