import type { JobscopeEvent } from '../../../src/events/index.js';
import { makeEvent } from '../../helpers/events.js';

/** The events of one job attempt: received → started → progress 50 → completed (or failed). */
export function jobLifecycle(jobId: string, outcome: 'completed' | 'failed', t0 = Date.now() - 10_000): JobscopeEvent[] {
  const job = { id: jobId, attempt: 1, queue: 'render' };
  const ai = { model: 'sdxl-turbo', provider: 'local', costUsd: 0.0042 };
  const end =
    outcome === 'completed'
      ? makeEvent({ type: 'job.completed', job, time: t0 + 3000, ai, data: { durationMs: 2500 } })
      : makeEvent({
          type: 'job.failed',
          job,
          time: t0 + 3000,
          level: 'error',
          data: { durationMs: 2500, willRetry: false, error: { type: 'CudaOutOfMemory', category: 'out_of_memory', message: 'CUDA out of memory', stack: 'CudaOutOfMemory: CUDA out of memory\n    at sample (model.py:42)' } },
        });
  return [
    makeEvent({ type: 'job.received', job, time: t0, data: { queueWaitMs: 200 } }),
    makeEvent({ type: 'job.started', job, time: t0 + 500, data: { queueWaitMs: 500 } }),
    makeEvent({ type: 'job.progress', job, time: t0 + 1500, data: { progress: 50, stage: 'sampling' } }),
    end,
  ];
}
