import type { Redis } from 'ioredis';
import { decodeEntryEvents, eventStreamKey, type JobscopeEvent } from '../../../src/events/index.js';
import { ConnectorLogger } from '../../../src/logger/connector-logger.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';

/** Every event in the prefix's stream, decoded, packed entries expanded (a bad entry or event fails the test). */
export async function streamEvents(redis: Redis, prefix: string): Promise<JobscopeEvent[]> {
  const entries = await redis.xrange(eventStreamKey({ prefix }), '-', '+');
  return entries.flatMap(([id, fields]) => {
    const r = decodeEntryEvents(fields);
    if (!r.ok) throw new Error(`entry ${id} does not decode: ${r.reason}`);
    return r.parts.map((p, i) => {
      if (!p.ok) throw new Error(`entry ${id} event ${i} does not decode: ${p.reason}`);
      return p.event;
    });
  });
}

/** The `job.*` events of one job, in stream order, as `type@attempt`. */
export function lifecycle(events: JobscopeEvent[], jobId: string): string[] {
  return events.filter((e) => e.type.startsWith('job.') && e.job?.id === jobId).map((e) => `${e.type}@${e.job!.attempt}`);
}

/** A real ConnectorLogger on the test Redis, quiet, validating every event. */
export function testLogger(prefix: string, serviceType = 'simulated', workerId = 'worker-1'): ConnectorLogger {
  return new ConnectorLogger({
    machineId: 'test-machine',
    workerId,
    serviceType,
    connectorId: `${serviceType}-test`,
    redis: TEST_REDIS_URL,
    prefix,
    stdout: false,
    level: 'silent',
    spoolMaxBytes: 0,
    validateEvents: true,
  });
}
