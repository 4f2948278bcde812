import type { Logger } from 'pino';
import { createEventId, decodeEventJson, type EventType, type Identity, type Level } from '../events/index.js';
import { createEventEncoderFactory, type EventEncoder, type EventEncoderFactory, type EventParts } from './event-encoder.js';
import type { Publisher } from './publisher.js';

/**
 * What ConnectorLogger and its job loggers share: identity, producer id and sequence, the
 * publisher and the pino lines. `emit` is the hot path of every logger call.
 */

/** Where one event goes and how it is written. */
export interface EmitTarget {
  encoder: EventEncoder;
  stream: string;
  /** pino child with the fields of this target (job, trace); may be a lazy getter. */
  readonly log: Logger;
}

/** The per-call part of an event. */
export type EmitParts = Pick<EventParts, 'message' | 'ai' | 'attrs' | 'data'> & { level: Level; type: EventType };

/** Shared core of a ConnectorLogger. */
export interface LoggerCore {
  readonly identity: Identity;
  readonly producer: string;
  readonly log: Logger;
  readonly now: () => number;
  /** Whether every call writes a JSON line (else only warnings are written). */
  readonly linesEnabled: boolean;
  /** Encoders of this logger's events; the identity and producer JSON are shared. */
  readonly encoderFor: EventEncoderFactory;
  /** Stamps id, time and seq (into `parts`, which the call takes over); publishes; writes the JSON line. Returns the event id. */
  emit(target: EmitTarget, parts: EmitParts): string | undefined;
  /** Counts and reports a call with bad arguments; `dropped` says why the event was not sent. */
  invalid(call: string, issues: string[], log?: Logger, dropped?: string): void;
  readonly invalidCalls: number;
}

/** Options of {@link createLoggerCore}. */
export interface LoggerCoreOptions {
  identity: Identity;
  producer: string;
  publisher: Publisher;
  log: Logger;
  linesEnabled: boolean;
  /** Check every event against the zod schema before sending (tests, development). */
  validateEvents: boolean;
  now: () => number;
  /** Encoders of this logger's events. Default: one made from `identity` and `producer`. */
  encoderFor?: EventEncoderFactory;
}

/** Creates the {@link LoggerCore}. */
export function createLoggerCore(options: LoggerCoreOptions): LoggerCore {
  const { publisher, linesEnabled, validateEvents, now } = options;
  let seq = 0;
  let invalidCalls = 0;
  // Bad calls are counted exactly, but said at most once a second per call name (a fixed set).
  const lastWarnedMs = new Map<string, number>();
  let suppressed = 0;

  function invalid(call: string, issues: string[], log: Logger = options.log, dropped?: string): void {
    invalidCalls++;
    const t = Date.now();
    if (t - (lastWarnedMs.get(call) ?? -Infinity) < 1000) {
      suppressed++;
      return;
    }
    lastWarnedMs.set(call, t);
    try {
      const fields: Record<string, unknown> = { event_type: 'jobscope.invalid_call', call, issues: issues.slice(0, 5) };
      if (dropped !== undefined) fields.dropped = dropped;
      if (suppressed > 0) fields.suppressed = suppressed;
      suppressed = 0;
      const what = dropped !== undefined ? `event dropped: ${dropped}` : 'bad values were left out';
      log.warn(fields, `jobscope: ${call}() called with bad arguments; ${what}`);
    } catch {
      // Reporting must never throw into job code.
    }
  }

  function emit(target: EmitTarget, p: EmitParts): string | undefined {
    const time = now();
    const id = createEventId(time);
    const s = seq;
    // The parts object doubles as the encoder's input: one allocation per event, not two.
    const parts = p as EmitParts & EventParts;
    parts.id = id;
    parts.time = time;
    parts.seq = s;
    const json = target.encoder.encode(parts);
    if (validateEvents) {
      const r = decodeEventJson(json);
      if (!r.ok) {
        invalid(p.type, [r.reason], target.log, 'the event does not match the schema');
        return undefined;
      }
    }
    seq++;
    publisher.publish(target.stream, json, options.producer, s);
    if (linesEnabled) writeLine(target.log, p, id, s);
    return id;
  }

  return {
    identity: options.identity,
    producer: options.producer,
    log: options.log,
    now,
    linesEnabled,
    encoderFor: options.encoderFor ?? createEventEncoderFactory(options.identity, options.producer),
    emit,
    invalid,
    get invalidCalls() {
      return invalidCalls;
    },
  };
}

function writeLine(log: Logger, p: EmitParts, id: string, seq: number): void {
  const fields: Record<string, unknown> = { event_type: p.type, event_id: id, seq, data: p.data };
  if (p.attrs !== undefined) fields.attrs = p.attrs;
  if (p.ai !== undefined) fields.ai = p.ai;
  log[p.level](fields, p.message ?? p.type);
}
