import type { Logger } from 'pino';
import { createEventId, decodeEventJson, MAX_ENTRY_BYTES, type AiUsage, type Attrs, type EventType, type Identity, type Level } from '../events/index.js';
import { flatObjectJson, ownMembersJson, sharedMembers } from './event-encoder.js';
import { wholeJson, type PendingEntry } from './event-buffer.js';
import { bindingMembers, eventLine, identityBindings, LEVEL_NUMBER } from './log-lines.js';
import type { Publisher } from './publisher.js';

/**
 * What ConnectorLogger and its job loggers share: identity, producer id and sequence, the
 * publisher and the pino lines. `emit` is the hot path of every logger call.
 */

/** Where one event goes and how it is written. */
export interface EmitTarget {
  /** The JSON members of the target's job attempt (`"job":…,"trace":…`, see event-encoder.ts); none for worker-level events. */
  readonly attemptJson: string | undefined;
  readonly stream: string;
  /** pino child with the fields of this target (job, trace); may be a lazy getter. */
  readonly log: Logger;
  /** Those fields as members of a JSON line (`,"job_id":…`; "" for none); may be a lazy getter. */
  readonly lineMembers: string;
}


/** See {@link LoggerCore.emit}. */
export type Emit = (
  target: EmitTarget,
  type: EventType,
  level: Level,
  message: string | undefined,
  attrs: Attrs | undefined,
  ai: AiUsage | undefined,
  /** The event's data, or its JSON text when the caller wrote it. */
  data: object | string,
  /** When it happened, Unix ms. Default: now. */
  at?: number,
) => string | undefined;

/**
 * Events written straight as lines of the open pack (pack.ts), for the job runtime's staged
 * lifecycle events (job-logger.ts): no object per event, the attempt's members written once
 * per pack by the attempt itself. Use: build the events' own members (seqs from `nextSeq`),
 * `reserve`, then `append` the lines; when `reserve` says -1, `emit` them instead.
 */
export interface DirectLines {
  /** The seq the next event gets. */
  readonly nextSeq: number;
  /** See Publisher.packGeneration. */
  readonly generation: number;
  /** Room for `n` events of `stream` counting `bytes` (without the shared members); the line index of the first, or -1. */
  reserve(stream: string, n: number, bytes: number): number;
  /**
   * The id stamp (takeEventId) of the open pack's last line when `append` wrote it and nothing
   * was added since (a line may then follow it, `"^"`, see events/packed-entry.ts); else
   * undefined. Read after `reserve`. Lines written here are all `info`.
   */
  readonly lastStamp: number | undefined;
  /** The time of that line. */
  readonly lastTime: number;
  /**
   * Adds `n` `info` events, reserved just before, as `text`: lines joined by "\n", seqs from
   * `nextSeq` on; `lastStamp` and `lastTime` are those of its last line.
   */
  append(stream: string, n: number, text: string, bytes: number, lastStamp: number, lastTime: number): void;
}

/** Shared core of a ConnectorLogger. */
export interface LoggerCore {
  readonly identity: Identity;
  readonly producer: string;
  readonly log: Logger;
  readonly now: () => number;
  /** Whether every call writes a JSON line (else only warnings are written). */
  readonly linesEnabled: boolean;
  /**
   * Stamps id, time and seq; publishes; writes the JSON line. Returns the event id. The values
   * are taken as they are (the callers check them); `data`, `attrs` and `ai` are encoded now.
   * Seqs follow the calls, whatever their times.
   */
  readonly emit: Emit;
  /** Writing lines directly; undefined while validation is on (it needs each event whole). */
  readonly direct: DirectLines | undefined;
  /**
   * The start of an event's JSON line of `level` up to its target's members (`{"level":…,"time":…,
   * "machine_id":…`, see log-lines.ts), or undefined when no such line is written.
   */
  lineHead(level: Level): string | undefined;
  /** Writes JSON lines (each ending in "\n") where the logger's lines go. */
  writeOut(text: string): void;
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
  /** Where `log` writes: the JSON lines of events are written there by hand (see log-lines.ts). */
  write: (text: string) => void;
  /** Check every event against the zod schema before sending (tests, development). */
  validateEvents: boolean;
  now: () => number;
}

/** What the message of an event too large for readers is cut to (see emit). */
const OVERSIZE_MESSAGE_CHARS = 1024;

/** Creates the {@link LoggerCore}. */
export function createLoggerCore(options: LoggerCoreOptions): LoggerCore {
  const { publisher, linesEnabled, validateEvents, now, producer, log, write } = options;
  let seq = 0;
  let invalidCalls = 0;
  // Bad calls are counted exactly, but said at most once a second per call name (a fixed set).
  const lastWarnedMs = new Map<string, number>();
  let suppressed = 0;
  // The identity and producer, serialized once for every event of this logger.
  const shared = sharedMembers(options.identity, options.producer);
  const sharedChars = shared.length + 10;
  // An event written whole carries the shared members too (the spool, packing off).
  const maxEventBytes = MAX_ENTRY_BYTES - Buffer.byteLength(shared) - 64;
  const identityLine = bindingMembers(identityBindings(options.identity));

  function lineHead(level: Level): string | undefined {
    return linesEnabled && log.isLevelEnabled(level) ? `{"level":${LEVEL_NUMBER[level]},"time":${Date.now()}${identityLine}` : undefined;
  }

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

  // The last line `direct.append` wrote, valid while the open pack is the same and no event came between.
  let lastGeneration = -1;
  let lastStamp = 0;
  let lastTime = 0;

  const emit: Emit = (target, type, level, message, attrs, ai, data, at) => {
    lastGeneration = -1;
    // The id's time is when the event is emitted, which only moves forward, so ids sort in
    // emission order; `time` is when it happened (an earlier `at`, for staged events).
    const emitted = now();
    const time = at ?? emitted;
    const id = createEventId(emitted);
    const s = seq;
    const dataJson = typeof data === 'string' ? data : flatObjectJson(data);
    const aiJson = ai === undefined ? undefined : flatObjectJson(ai);
    const attrsJson = attrs === undefined ? undefined : flatObjectJson(attrs);
    const own = ownMembersJson(id, time, level, type, s, message, aiJson, attrsJson, dataJson);
    const attempt = target.attemptJson;
    // Within the bounds of the arguments an event can still be over what readers take once
    // escaped (64 attributes of 4096 control characters: 1.6 MB): it would be lost at read time.
    // The attributes go first, then the message is cut; the call is reported. A UTF-16 unit is
    // at most 3 bytes, so the usual event is cleared without counting its bytes.
    if ((own.length + (attempt?.length ?? 0)) * 3 > maxEventBytes && Buffer.byteLength(own) + (attempt === undefined ? 0 : Buffer.byteLength(attempt)) > maxEventBytes) {
      if (attrs !== undefined) {
        invalid(type, [`attrs: the event would be over the ${MAX_ENTRY_BYTES} bytes readers take; attributes left out`], target.log);
        return emit(target, type, level, message, undefined, ai, data, at);
      }
      if (message !== undefined && message.length > OVERSIZE_MESSAGE_CHARS) {
        invalid(type, [`message: the event would be over the ${MAX_ENTRY_BYTES} bytes readers take; cut to ${OVERSIZE_MESSAGE_CHARS} characters`], target.log);
        return emit(target, type, level, message.slice(0, OVERSIZE_MESSAGE_CHARS), attrs, ai, data, at);
      }
      invalid(type, [`the event is over the ${MAX_ENTRY_BYTES} bytes readers take`], target.log, 'too large');
      return undefined;
    }
    const entry: PendingEntry = {
      stream: target.stream,
      json: own,
      shared,
      attempt,
      bytes: own.length + sharedChars + (attempt === undefined ? 0 : attempt.length),
      producer,
      seq: s,
    };
    if (validateEvents) {
      const r = decodeEventJson(wholeJson(entry));
      if (!r.ok) {
        invalid(type, [r.reason], target.log, 'the event does not match the schema');
        return undefined;
      }
    }
    seq++;
    publisher.publish(entry);
    const head = lineHead(level);
    if (head !== undefined) write(eventLine(head, target.lineMembers, type, id, s, dataJson, at, attrsJson, aiJson, message));
    return id;
  };

  const direct: DirectLines | undefined = validateEvents
    ? undefined
    : {
        get nextSeq() {
          return seq;
        },
        get generation() {
          return publisher.packGeneration;
        },
        reserve: (stream, n, bytes) => publisher.reserveLines(stream, producer, shared, n, bytes + n * sharedChars),
        get lastStamp() {
          return lastGeneration === publisher.packGeneration ? lastStamp : undefined;
        },
        get lastTime() {
          return lastTime;
        },
        append(stream, n, text, bytes, stamp, time) {
          publisher.appendLines(stream, producer, shared, seq, n, text, bytes + n * sharedChars);
          seq += n;
          lastGeneration = publisher.packGeneration;
          lastStamp = stamp;
          lastTime = time;
        },
      };

  return {
    identity: options.identity,
    producer: options.producer,
    log: options.log,
    now,
    linesEnabled,
    emit,
    direct,
    lineHead,
    writeOut: write,
    invalid,
    get invalidCalls() {
      return invalidCalls;
    },
  };
}
