import { describe, expect, it } from 'vitest';
import { workerLiveness } from '../../../src/status/worker-liveness.js';

const now = 100_000;

describe('workerLiveness', () => {
  it('is busy with jobs and idle without, while heartbeats are fresh', () => {
    expect(workerLiveness({ lastHeartbeatAt: now - 1000, heartbeatIntervalMs: 5000, currentJobs: ['a'] }, { now })).toBe('busy');
    expect(workerLiveness({ lastHeartbeatAt: now - 1000, heartbeatIntervalMs: 5000, currentJobs: [] }, { now })).toBe('idle');
  });

  it('is dead after three silent intervals, not before', () => {
    const w = { heartbeatIntervalMs: 5000, currentJobs: ['a'] };
    expect(workerLiveness({ ...w, lastHeartbeatAt: now - 15_000 }, { now })).toBe('busy');
    expect(workerLiveness({ ...w, lastHeartbeatAt: now - 15_001 }, { now })).toBe('dead');
    expect(workerLiveness({ ...w, lastHeartbeatAt: now - 11_000 }, { now, deadAfterIntervals: 2 })).toBe('dead');
  });

  it('uses the default interval for a worker that never sent one', () => {
    expect(workerLiveness({ lastSeenAt: now - 60_000, currentJobs: [] }, { now })).toBe('idle');
    expect(workerLiveness({ lastSeenAt: now - 60_000, currentJobs: [] }, { now, defaultHeartbeatIntervalMs: 10_000 })).toBe('dead');
  });

  it('is stopped after worker.stopped, until it starts again', () => {
    expect(workerLiveness({ startedAt: 1, lastHeartbeatAt: 50_000, stoppedAt: 60_000, currentJobs: [] }, { now })).toBe('stopped');
    expect(workerLiveness({ startedAt: 90_000, stoppedAt: 60_000, currentJobs: [] }, { now })).toBe('idle');
  });
});
