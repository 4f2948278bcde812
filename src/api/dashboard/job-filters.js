import { h } from './dom.js';

// The filter bar of the jobs table: state, service, machine, worker, model and a job id
// search. Text fields apply after a short pause in typing.

const STATES = ['received', 'running', 'retrying', 'completed', 'failed', 'cancelled'];
const TEXT_FIELDS = [
  ['service', 'Service'],
  ['machine', 'Machine'],
  ['worker', 'Worker'],
  ['model', 'Model'],
];

/** Creates the filter bar; `onChange()` runs when the filters changed. */
export function createJobFilters({ onChange }) {
  let timer;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, 300);
  };
  const state = h('select', { 'aria-label': 'State', onchange: onChange }, h('option', { value: '', text: 'any state' }), STATES.map((s) => h('option', { value: s, text: s })));
  const search = h('input', { type: 'search', placeholder: 'Job id starts with…', 'aria-label': 'Job id search', oninput: changed });
  const inputs = Object.fromEntries(TEXT_FIELDS.map(([key, label]) => [key, h('input', { type: 'text', placeholder: label, 'aria-label': label, oninput: changed })]));
  const clear = h('button', {
    type: 'button',
    text: 'Clear',
    onclick: () => {
      state.value = '';
      search.value = '';
      for (const input of Object.values(inputs)) input.value = '';
      onChange();
    },
  });
  const el = h('form', { class: 'filters', onsubmit: (ev) => ev.preventDefault() }, search, state, Object.values(inputs), clear);

  function query() {
    const q = {};
    if (state.value) q.state = state.value;
    if (search.value.trim()) q.q = search.value.trim();
    for (const [key] of TEXT_FIELDS) if (inputs[key].value.trim()) q[key] = inputs[key].value.trim();
    return q;
  }

  return {
    el,
    query,
    setState(value) {
      state.value = state.value === value ? '' : value;
      onChange();
    },
    /** Whether a job (possibly built from a feed entry) passes the filters the feed can judge. */
    matches(job) {
      const q = query();
      if (q.state && job.state !== q.state) return false;
      if (q.service && job.serviceType !== q.service) return false;
      if (q.machine && job.machineId !== q.machine) return false;
      if (q.worker && job.workerId !== q.worker) return false;
      if (q.q && !String(job.id).startsWith(q.q)) return false;
      return true;
    },
    /** False when a filter the feed cannot judge (model) is set: new jobs then wait for a reload. */
    canMatchLive: () => !inputs.model.value.trim(),
  };
}
