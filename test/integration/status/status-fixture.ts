import type { Redis } from 'ioredis';
import type { JobscopeEvent } from '../../../src/events/index.js';
import { createStatusSink, type StatusSink, type StatusSinkOptions } from '../../../src/sinks/status/index.js';
import { createStatusReader, type ExtendedStatusReader, type StatusReaderOptions } from '../../../src/status/index.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../helpers/redis.js';
import { makeEvent } from '../../helpers/events.js';

/** A sink and a reader on a fresh prefix of the test Redis; `done()` cleans up. */
export interface StatusFixture {
  redis: Redis;
  prefix: string;
  sink: StatusSink;
  reader: ExtendedStatusReader;
  /** Writes events through the sink and expects every one confirmed. */
  apply(...events: JobscopeEvent[]): Promise<void>;
  done(): Promise<void>;
}

export function statusFixture(
  sinkOptions: Partial<StatusSinkOptions> = {},
  readerOptions: Partial<StatusReaderOptions> = {},
): StatusFixture {
  const redis = testRedis();
  const prefix = testPrefix('status');
  const sink = createStatusSink({ redis, prefix, pruneIntervalMs: 0, ...sinkOptions });
  const reader = createStatusReader({ redis, prefix, ...readerOptions });
  return {
    redis,
    prefix,
    sink,
    reader,
    async apply(...events) {
      const r = await sink.write(events, new AbortController().signal);
      if (r.status !== 'ok' || r.rejected) throw new Error(`status sink did not confirm: ${JSON.stringify(r)}`);
    },
    async done() {
      await sink.close();
      await cleanupPrefix(redis, prefix);
      redis.disconnect();
    },
  };
}

type Overrides = Partial<JobscopeEvent>;

/** A job event of `jobId`/`attempt` at `time`, with optional data and other fields. */
export function jobEvent(
  type: JobscopeEvent['type'],
  jobId: string,
  attempt: number,
  time: number,
  extra: Record<string, unknown> = {},
): JobscopeEvent {
  const overrides = { type, job: { id: jobId, attempt }, time, ...extra };
  return makeEvent(overrides as Overrides & Pick<JobscopeEvent, 'type'>);
}

/** A worker event of `workerId` on `machine-1` at `time`. */
export function workerEvent(
  type: 'worker.started' | 'worker.heartbeat' | 'worker.stopped',
  workerId: string,
  time: number,
  data?: Record<string, unknown>,
): JobscopeEvent {
  const source = { machineId: 'machine-1', workerId, serviceType: 'comfyui', connectorId: 'comfyui-local' };
  return makeEvent({ type, source, time, ...(data ? { data } : {}) } as Overrides & Pick<JobscopeEvent, 'type'>);
}
