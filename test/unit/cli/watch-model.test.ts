import { describe, expect, it } from 'vitest';
import { createWatchModel } from '../../../src/cli/watch-model.js';
import type { FeedEntry } from '../../../src/status/types.js';

const entry = (jobId: string, eventType: FeedEntry['eventType'], state: FeedEntry['state'], time: number): FeedEntry => ({
  id: `${time}-0`,
  kind: 'job',
  eventId: `e-${time}`,
  eventType,
  time,
  jobId,
  state,
  attempt: 1,
  machineId: 'm',
  workerId: 'w',
  serviceType: 's',
  connectorId: 'c',
});

describe('createWatchModel', () => {
  it('moves counts between states, computes the duration, and keeps the newest rows only', () => {
    const m = createWatchModel(2);
    m.setCounts({ completed: 5 });
    m.apply(entry('a', 'job.received', 'received', 1000));
    m.apply(entry('a', 'job.started', 'running', 2000));
    m.apply(entry('a', 'job.completed', 'completed', 4500));
    expect(m.counts()).toMatchObject({ received: 0, running: 0, completed: 6 });
    expect(m.rows()[0]).toMatchObject({ id: 'a', state: 'completed', durationMs: 2500, progress: 100 });
    m.apply(entry('b', 'job.received', 'received', 5000));
    m.apply(entry('c', 'job.received', 'received', 6000));
    expect(m.rows().map((r) => r.id)).toEqual(['c', 'b']);
    expect(m.apply({ ...entry('x', 'worker.heartbeat', undefined, 7000), kind: 'worker' })).toBe(false);
  });
});
