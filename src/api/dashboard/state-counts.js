import { apiGet } from './api.js';
import { h } from './dom.js';

// Counts of jobs by state, read from /api/stats and kept current from the feed. The previous
// state of a job comes from a bounded map of the states seen, so transitions move one count
// from the old state to the new one.

const STATES = ['received', 'running', 'retrying', 'completed', 'failed', 'cancelled'];
/** Most job states remembered for counting transitions (oldest forgotten first). */
const MAX_KNOWN = 20000;

/** Creates the counters bar; clicking a count filters the table by that state. */
export function createStateCounts({ onPick }) {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  const known = new Map();
  const cells = {};
  const el = h(
    'div',
    { class: 'counts' },
    STATES.map((state) => {
      cells[state] = h('span', { class: 'count-n', text: '0' });
      return h('button', { type: 'button', class: `count state-${state}`, title: `Show ${state} jobs`, onclick: () => onPick(state) }, cells[state], h('span', { text: state }));
    }),
  );

  function show() {
    for (const s of STATES) cells[s].textContent = String(counts[s]);
  }

  function remember(jobId, state) {
    known.delete(jobId);
    known.set(jobId, state);
    if (known.size > MAX_KNOWN) known.delete(known.keys().next().value);
  }

  return {
    el,
    async load() {
      const stats = await apiGet('/api/stats', { window: 3600000 });
      for (const s of STATES) counts[s] = (stats.jobsByState && stats.jobsByState[s]) || 0;
      show();
    },
    apply(e) {
      if (!e.jobId || !e.state) return;
      const before = known.get(e.jobId);
      if (before && before !== e.state) {
        counts[before] = Math.max(0, counts[before] - 1);
        counts[e.state] += 1;
      } else if (!before && e.eventType === 'job.received' && (e.attempt || 1) === 1) counts[e.state] += 1;
      remember(e.jobId, e.state);
      show();
    },
  };
}
