import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createApiApp, type ApiApp } from '../../../src/api/api-app.js';
import type { ApiOptions } from '../../../src/api/api-options.js';
import type { JobscopeEvent } from '../../../src/events/index.js';
import { createStatusSink } from '../../../src/sinks/status/index.js';
import { makeEvent } from '../../helpers/events.js';

/** The API token the tests use. */
export const TOKEN = 'test-token-0123456789abcdef';

/** Writes events to the status store through the real status sink. */
export async function seed(redis: Redis, prefix: string, events: JobscopeEvent[]): Promise<void> {
  const sink = createStatusSink({ redis, prefix, pruneIntervalMs: 0 });
  try {
    const r = await sink.write(events, new AbortController().signal);
    if (r.status !== 'ok') throw new Error(`status sink did not apply the seed: ${JSON.stringify(r)}`);
  } finally {
    await sink.close();
  }
}

interface JobSpec {
  id: string;
  service?: string;
  machine?: string;
  worker?: string;
  queue?: string;
  /** received → started → (completed | failed); stop early with `until`. */
  until?: 'received' | 'running' | 'completed' | 'failed';
  time?: number;
  durationMs?: number;
  model?: string;
  costUsd?: number;
  errorMessage?: string;
}

/** The events of one job's lifecycle, as a job worker would publish them. */
export function lifecycle(spec: JobSpec): JobscopeEvent[] {
  const t = spec.time ?? Date.now();
  const source = { machineId: spec.machine ?? 'machine-1', workerId: spec.worker ?? 'worker-1', serviceType: spec.service ?? 'comfyui', connectorId: `${spec.service ?? 'comfyui'}-local` };
  const job = { id: spec.id, attempt: 1, queue: spec.queue ?? 'images' };
  const base = { source, job };
  const events: JobscopeEvent[] = [makeEvent({ ...base, type: 'job.received', time: t, data: { queueWaitMs: 40 } })];
  const until = spec.until ?? 'completed';
  if (until === 'received') return events;
  events.push(makeEvent({ ...base, type: 'job.started', time: t + 1, data: { queueWaitMs: 40 } }));
  if (until === 'running') return events;
  const ai = spec.model === undefined ? {} : { ai: { model: spec.model, provider: 'openai', costUsd: spec.costUsd ?? 0 } };
  if (until === 'completed') {
    events.push(makeEvent({ ...base, ...ai, type: 'job.completed', time: t + 2, data: { durationMs: spec.durationMs ?? 1000 } }));
  } else {
    const error = { type: 'TimeoutError', category: 'timeout' as const, message: spec.errorMessage ?? 'request timed out after 30000 ms' };
    events.push(makeEvent({ ...base, ...ai, type: 'job.failed', time: t + 2, level: 'error', data: { durationMs: spec.durationMs ?? 900, error, willRetry: false } }));
  }
  return events;
}

/** An app on `redis`/`prefix` with the test token; stuck detection runs on demand only. */
export function testApp(redis: Redis, prefix: string, extra: Partial<ApiOptions> = {}): ApiApp {
  return createApiApp({
    redis,
    prefix,
    auth: { token: TOKEN },
    metricsRegistry: new Registry(),
    ...extra,
    stuck: { autoStart: false, ...extra.stuck },
  });
}

/** Headers with a bearer token. */
export function bearer(token: string = TOKEN): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${token}` } };
}
