import { createEventId, type JobscopeEvent } from '../../src/events/index.js';

let seq = 0;

/** A valid event of the given type, for tests; override any field. */
export function makeEvent(overrides: Partial<JobscopeEvent> & Pick<JobscopeEvent, 'type'>): JobscopeEvent {
  const base = {
    v: 1 as const,
    id: createEventId(),
    time: Date.now(),
    level: 'info' as const,
    source: { machineId: 'machine-1', workerId: 'worker-1', serviceType: 'comfyui', connectorId: 'comfyui-local' },
    producer: 'test-producer',
    seq: seq++,
    trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' },
    job: { id: 'job-1', attempt: 1 },
  };
  const data = defaultData(overrides.type);
  const event = { ...base, data, ...overrides } as Record<string, unknown>;
  if (overrides.type.startsWith('worker.') && !('job' in overrides)) delete event.job;
  return event as unknown as JobscopeEvent;
}

function defaultData(type: JobscopeEvent['type']): unknown {
  switch (type) {
    case 'job.progress':
      return { progress: 50 };
    case 'job.completed':
      return { durationMs: 1200 };
    case 'job.failed':
      return { durationMs: 900, error: { type: 'Error', category: 'unknown', message: 'boom' } };
    case 'job.retrying':
      return { nextAttempt: 2, delayMs: 1000 };
    case 'worker.heartbeat':
      return { intervalMs: 5000, currentJobs: [] };
    case 'log':
      return { kind: 'log' };
    default:
      return {};
  }
}
