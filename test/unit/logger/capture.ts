import { pino } from 'pino';
import { decodeEventJson, expandLines, parseSharedMembers, SCHEMA_VERSION, type JobscopeEvent } from '../../../src/events/index.js';
import { createLoggerCore, type LoggerCore } from '../../../src/logger/logger-core.js';
import type { Publisher } from '../../../src/logger/publisher.js';
import { wholeJson } from '../../../src/logger/event-buffer.js';
import { PACK_MAX_EVENTS } from '../../../src/logger/pack.js';

/**
 * A logger core whose publisher and pino destination are captured in memory. Events the core
 * writes as pack lines (LoggerCore.direct) are kept as an open pack of up to PACK_MAX_EVENTS lines and read
 * back at once with the stream readers' own expansion (`@` references included).
 */
export interface Captured {
  core: LoggerCore;
  /** Decoded events, in publish order; a schema failure throws at once. */
  events: JobscopeEvent[];
  streams: string[];
  lines: Record<string, unknown>[];
  /** The number of events of each `appendLines` call (lines written straight into the pack), in order. */
  appends: number[];
  clock: { ms: number };
}

export function captureCore(options: { stdout?: boolean; level?: 'debug' | 'info' | 'warn' } = {}): Captured {
  const events: JobscopeEvent[] = [];
  const streams: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const appends: number[] = [];
  const clock = { ms: 1_800_000_000_000 };
  const take = (json: string, stream: string) => {
    const r = decodeEventJson(json);
    if (!r.ok) throw new Error(`published an invalid event: ${r.reason}`);
    events.push(r.event);
    streams.push(stream);
  };
  let pack: string[] = [];
  let generation = 0;
  const publisher: Publisher = {
    publish(entry) {
      take(wholeJson(entry), entry.stream);
    },
    reserveLines(_stream, _producer, _shared, n) {
      if (pack.length + n > PACK_MAX_EVENTS) {
        pack = [];
        generation++;
      }
      return pack.length;
    },
    appendLines(stream, _producer, shared, _firstSeq, n, text) {
      const lines = text.split('\n');
      if (lines.length !== n) throw new Error(`appendLines: ${n} events announced, ${lines.length} lines written`);
      appends.push(n);
      pack.push(...lines);
      const s = parseSharedMembers(`{${shared}}`);
      if (!s.ok) throw new Error(s.reason);
      const expanded = expandLines(pack, { shared: s.members, version: SCHEMA_VERSION, maxLineBytes: 1 << 20 }).slice(-n);
      for (const line of expanded) {
        if (!line.ok) throw new Error(`appended an unreadable line: ${line.reason}`);
        take(JSON.stringify(line.raw), stream);
      }
    },
    get packGeneration() {
      return generation;
    },
    stats: () => {
      throw new Error('not used');
    },
    flush: async () => true,
    close: async () => true,
  };
  // One write may hold several lines (a short attempt's events are written at once).
  const destination = {
    write: (s: string) => {
      if (!s.endsWith('\n')) throw new Error(`a write that does not end a line: ${s.slice(-40)}`);
      for (const line of s.slice(0, -1).split('\n')) lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
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
    write: (s) => destination.write(s),
    validateEvents: false,
    now: () => clock.ms,
  });
  return { core, events, streams, lines, appends, clock };
}
