import { createEventId, type JobscopeEvent } from '../../src/events/index.js';

/**
 * The event mix of the pipeline benchmarks: what job workers really send. Events come in job
 * lifecycles of {@link LIFECYCLE_EVENTS} events — received, started, four progress updates, one
 * worker heartbeat, then completed (or failed, for one job in {@link FAIL_EVERY}) — so the
 * status store pays its per-job cost (hash, indexes, registry) once per job, as in production,
 * not once per event. Events are spread over 8 workers on 2 machines.
 */

/** Events per job lifecycle. */
export const LIFECYCLE_EVENTS = 8;
/** One job in this many fails (`job.failed`, so the Sentry sink has work). */
export const FAIL_EVERY = 50;

const STEPS = ['job.received', 'job.started', 'job.progress', 'job.progress', 'job.progress', 'job.progress', 'worker.heartbeat', 'end'] as const;

/** The `i`-th event of the benchmark stream (`runId` keeps job ids apart between runs). */
export function lifecycleEvent(i: number, runId = ''): JobscopeEvent {
  const jobNo = Math.floor(i / LIFECYCLE_EVENTS);
  const step = STEPS[i % LIFECYCLE_EVENTS]!;
  const failed = step === 'end' && jobNo % FAIL_EVERY === FAIL_EVERY - 1;
  const type = step === 'end' ? (failed ? 'job.failed' : 'job.completed') : step;
  const worker = jobNo % 8;
  const base = {
    v: 1,
    id: createEventId(),
    time: Date.now(),
    level: failed ? 'error' : 'info',
    message: type,
    source: { machineId: `railway-comfyui-0${worker % 2}`, workerId: `worker-00${worker}`, serviceType: 'comfyui', connectorId: 'comfyui-local', instance: 'host:1234' },
    producer: `bench-producer-${worker}`,
    seq: i,
    trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true },
  };
  if (type === 'worker.heartbeat') {
    return { ...base, type, data: { intervalMs: 5000, currentJobs: [`job-${runId}${jobNo}`], uptimeMs: 60_000 } } as JobscopeEvent;
  }
  return {
    ...base,
    type,
    job: { id: `job-${runId}${jobNo}`, attempt: 1, queue: 'comfyui-jobs', name: 'txt2img' },
    ai: { model: 'sdxl-base-1.0', provider: 'comfyui', operation: 'image_generation', inputTokens: 77, outputTokens: 0, gpuSeconds: 4.2, costUsd: 0.0031 },
    data: dataFor(type, i),
  } as JobscopeEvent;
}

function dataFor(type: string, i: number): Record<string, unknown> {
  switch (type) {
    case 'job.received':
      return { queueWaitMs: 120, enqueuedAt: Date.now() - 120 };
    case 'job.started':
      return { queueWaitMs: 120 };
    case 'job.progress':
      return { progress: ((i % LIFECYCLE_EVENTS) - 1) * 20, step: (i % LIFECYCLE_EVENTS) - 1, totalSteps: 5, stage: 'sampling' };
    case 'job.failed':
      return { durationMs: 900, error: { type: 'TimeoutError', category: 'timeout', message: 'ComfyUI did not answer within 120 s' } };
    default:
      return { durationMs: 4211, outputCount: 1, outputSize: 1_482_113 };
  }
}
