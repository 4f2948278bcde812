import { describe, expect, it } from 'vitest';
import { parseFeedEntry, parseJobRecord, parseWorkerRecord } from '../../../src/status/record-codec.js';
import { toScriptEvent, toTimelineEntry } from '../../../src/sinks/status/to-script-event.js';
import { makeEvent } from '../../helpers/events.js';

describe('record codec', () => {
  it('reads a job hash, summing float drift away from cost', () => {
    const r = parseJobRecord({
      id: 'j', state: 'failed', attempt: '2', machineId: 'm', workerId: 'w', serviceType: 's', connectorId: 'c',
      updatedAt: '10', lastEventId: 'e', lastEventType: 'job.failed', eventCount: '3', costUsd: '0.30000000000000004',
      inputTokens: '5', model: 'x', lastError: '{"type":"E","category":"unknown","message":"m"}', willRetry: 'false', progress: '33.3',
    });
    expect(r).toMatchObject({ state: 'failed', attempt: 2, eventCount: 3, progress: 33.3, willRetry: false, ai: { costUsd: 0.3, inputTokens: 5, model: 'x' } });
    expect(r?.lastError?.message).toBe('m');
    expect(parseJobRecord({})).toBeUndefined();
  });

  it('reads feed fields', () => {
    const e = parseFeedEntry('1-0', ['kind', 'job', 'eventId', 'e', 'eventType', 'job.progress', 'time', '5', 'jobId', 'j', 'state', 'running', 'attempt', '1', 'progress', '12.5', 'machineId', 'm', 'workerId', 'w', 'serviceType', 's', 'connectorId', 'c']);
    expect(e).toEqual({ id: '1-0', kind: 'job', eventId: 'e', eventType: 'job.progress', time: 5, jobId: 'j', state: 'running', attempt: 1, progress: 12.5, machineId: 'm', workerId: 'w', serviceType: 's', connectorId: 'c' });
    expect(e).not.toHaveProperty('willRetry');
  });

  it('reads whether a failed attempt is retried from a job.failed feed entry, and leaves it out when the entry does not say', () => {
    const failed = ['kind', 'job', 'eventId', 'e', 'eventType', 'job.failed', 'time', '5', 'jobId', 'j', 'state', 'failed', 'attempt', '2'];
    expect(parseFeedEntry('1-0', [...failed, 'willRetry', 'true'])).toMatchObject({ state: 'failed', attempt: 2, willRetry: true });
    expect(parseFeedEntry('1-0', [...failed, 'willRetry', 'false'])).toMatchObject({ state: 'failed', attempt: 2, willRetry: false });
    expect(parseFeedEntry('1-0', failed)).not.toHaveProperty('willRetry'); // written before the feed carried it
  });

  it('reads a worker hash with liveness', () => {
    const w = parseWorkerRecord({ machineId: 'm', workerId: 'w', lastHeartbeatAt: '100', heartbeatIntervalMs: '10' }, ['b', 'a'], { now: 105 });
    expect(w).toMatchObject({ liveness: 'busy', currentJobs: ['a', 'b'], lastHeartbeatAt: 100 });
    expect(parseWorkerRecord({}, [], { now: 0 })).toBeUndefined();
  });

  it('flattens an event for the script and builds its timeline line', () => {
    const ev = makeEvent({
      type: 'job.failed',
      data: { durationMs: 5, willRetry: true, error: { type: 'E', category: 'network', message: 'x' } },
      ai: { model: 'm', inputTokens: 3 },
    });
    const s = toScriptEvent(ev);
    expect(s).toMatchObject({ i: ev.id, t: 'job.failed', j: 'job-1', a: 1, du: 5, wr: true, mo: 'm', it: 3 });
    expect(JSON.parse(s.er!)).toMatchObject({ type: 'E' });
    expect(toTimelineEntry(ev)).toMatchObject({ eventId: ev.id, type: 'job.failed', errorType: 'E', errorMessage: 'x', durationMs: 5 });
  });
});
