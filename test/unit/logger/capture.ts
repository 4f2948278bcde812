import { pino } from 'pino';
import { decodeEventJson, type JobscopeEvent } from '../../../src/events/index.js';
import { createLoggerCore, type LoggerCore } from '../../../src/logger/logger-core.js';
import type { Publisher } from '../../../src/logger/publisher.js';
import { wholeJson } from '../../../src/logger/event-buffer.js';

/** A logger core whose publisher and pino destination are captured in memory. */
export interface Captured {
  core: LoggerCore;
  /** Decoded events, in publish order; a schema failure throws at once. */
  events: JobscopeEvent[];
  streams: string[];
  lines: Record<string, unknown>[];
  clock: { ms: number };
}

export function captureCore(options: { stdout?: boolean; level?: 'debug' | 'info' | 'warn' } = {}): Captured {
  const events: JobscopeEvent[] = [];
  const streams: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const clock = { ms: 1_800_000_000_000 };
  const publisher: Publisher = {
    publish(entry) {
      const r = decodeEventJson(wholeJson(entry));
      if (!r.ok) throw new Error(`published an invalid event: ${r.reason}`);
      events.push(r.event);
      streams.push(entry.stream);
    },
    stats: () => {
      throw new Error('not used');
    },
    flush: async () => true,
    close: async () => true,
  };
  const destination = { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
  const log = pino({ level: options.level ?? 'debug', base: null }, destination).child({
    machine_id: 'm-1',
    worker_id: 'w-1',
    service_type: 'comfyui',
    connector_id: 'c-1',
  });
  const core = createLoggerCore({
    identity: { machineId: 'm-1', workerId: 'w-1', serviceType: 'comfyui', connectorId: 'c-1' },
    producer: 'c-1-producer',
    publisher,
    log,
    linesEnabled: options.stdout ?? true,
    validateEvents: false,
    now: () => clock.ms,
  });
  return { core, events, streams, lines, clock };
}
