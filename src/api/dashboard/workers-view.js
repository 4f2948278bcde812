import { apiGet } from './api.js';
import { empty, errorBox, h, replace } from './dom.js';
import { timeEl } from './format.js';

// The workers tree machine → worker → service, with liveness badges and current jobs.
// Re-read (at most once a second) when the feed reports a worker change.

/** Creates the view in `root`; `onOpenJob(id)` opens a job. */
export function createWorkersView(root, { onOpenJob }) {
  let timer;
  const summary = h('div', { class: 'counts' });
  const tree = h('div', { class: 'tree' });
  replace(root, summary, tree);

  async function load() {
    try {
      const res = await apiGet('/api/workers');
      const c = res.counts || {};
      replace(summary, ['busy', 'idle', 'dead', 'stopped'].map((l) => h('span', { class: `count live-${l}` }, h('span', { class: 'count-n', text: String(c[l] || 0) }), h('span', { text: l }))));
      replace(
        tree,
        res.machines.length
          ? h('ul', {}, res.machines.map((m) => machineNode(m, onOpenJob)))
          : empty('No workers have reported yet.', 'Start a job worker: it appears here with its first heartbeat.'),
      );
    } catch (err) {
      replace(tree, errorBox(err));
    }
  }

  return {
    load,
    applyBatch(entries, visible) {
      if (!visible || timer || !entries.some((e) => e.kind === 'worker' || e.eventType === 'job.started' || e.state === 'completed')) return;
      timer = setTimeout(() => {
        timer = undefined;
        void load();
      }, 1000);
    },
  };
}

function machineNode(m, onOpenJob) {
  return h('li', { class: 'machine' }, h('span', { class: 'node-name', text: m.machineId }), h('ul', {}, m.workers.map((w) => workerNode(w, onOpenJob))));
}

function workerNode(w, onOpenJob) {
  const jobs = (w.currentJobs || []).slice(0, 10);
  return h(
    'li',
    { class: 'worker' },
    h('span', { class: 'node-name', text: w.workerId }),
    h('span', { class: `badge live-${w.liveness}`, text: w.liveness }),
    w.lastHeartbeatAt ? h('span', { class: 'muted small' }, ' heartbeat ', timeEl(w.lastHeartbeatAt)) : null,
    jobs.length
      ? h('span', { class: 'current-jobs' }, ' running ', jobs.map((id) => h('button', { type: 'button', class: 'link mono', text: id, onclick: () => onOpenJob(id) })))
      : null,
    h('ul', {}, (w.services || []).map((s) => h('li', { class: 'service', text: `${s.serviceType} · ${s.connectorId}${s.instance ? ` · ${s.instance}` : ''}` }))),
  );
}
