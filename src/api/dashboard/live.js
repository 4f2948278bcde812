import { currentToken, withQuery } from './api.js';

// The live feed: one EventSource on /api/stream. The browser reconnects by itself and sends
// Last-Event-ID, so the API resumes without a gap. Entries are queued and handed to the views
// once per animation frame, so a burst of thousands of changes costs one DOM update.

/** Most queued entries between two frames; past it the views are told to re-read instead. */
const MAX_QUEUE = 5000;

/**
 * Starts the feed. `onBatch(entries)` runs once per frame with the queued entries;
 * `onState(state)` with 'connecting' | 'live' | 'reconnecting' | 'closed';
 * `onOverflow()` when entries were dropped (the views re-read their data).
 */
export function startLiveFeed({ onBatch, onState, onOverflow }) {
  let queue = [];
  let dropped = 0;
  let frame = 0;
  let source;
  let retryTimer;
  let lastEventId = '';

  function flush() {
    frame = 0;
    const batch = queue;
    queue = [];
    if (dropped > 0) {
      dropped = 0;
      onOverflow();
    }
    if (batch.length) onBatch(batch);
  }

  function push(kind, ev) {
    let entry;
    try {
      entry = JSON.parse(ev.data);
    } catch {
      return;
    }
    entry.kind = entry.kind || kind;
    if (ev.lastEventId) lastEventId = ev.lastEventId;
    if (queue.length >= MAX_QUEUE) dropped++;
    else queue.push(entry);
    // A hidden tab gets no animation frames: fall back to a timer so the queue still drains.
    if (!frame) frame = document.hidden ? setTimeout(flush, 250) : window.requestAnimationFrame(flush);
  }

  function connect() {
    onState('connecting');
    const token = currentToken();
    // A new EventSource does not carry the old one's Last-Event-ID: pass it in the query.
    source = new EventSource(withQuery('/api/stream', { types: 'job,worker', access_token: token, lastEventId }));
    source.onopen = () => onState('live');
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. a 401 or the API is down hard): retry ourselves, slower.
        onState('closed');
        retryTimer = setTimeout(connect, 5000);
      } else onState('reconnecting');
    };
    source.addEventListener('job', (ev) => push('job', ev));
    source.addEventListener('worker', (ev) => push('worker', ev));
  }

  connect();
  return {
    close() {
      clearTimeout(retryTimer);
      if (source) source.close();
    },
  };
}
