import { pino, type DestinationStream, type Logger } from 'pino';
import type { Identity, Level } from '../events/index.js';
import { flatObjectJson, quote } from './event-encoder.js';

/**
 * The logger's own JSON lines (pino): one per call, so a worker's log view is useful with no
 * pipeline running. Every line carries the identity, and a job attempt's lines its job and trace.
 *
 * The lines of events are written by hand ({@link eventLine}), as pino writes
 * `child.info({ event_type, event_id, seq, data, … }, message)` on the attempt's child, to the
 * same destination. Through pino (a child logger per attempt, its general serializer, the
 * event's data parsed back from the JSON already made for the stream, and no packed stream
 * entries while lines were on) the same loop (below) took 47 µs of CPU per attempt. The
 * logger's own warnings still go through pino. One known difference: a lone UTF-16 surrogate in
 * a message is written escaped (`"\ud800"`, as JSON.stringify does), where pino on Node < 25
 * writes the unit as it is (short strings skip its serializer), which ends up as U+FFFD.
 */

/** Lowest level written; `silent` turns warnings off too. */
export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Options of {@link createLogLines}. */
export interface LogLinesOptions {
  identity: Identity;
  /** Default `info`. */
  level?: LogLevelName;
  /** Write one line per call. When false only the logger's own warnings are written. Default true. */
  stdout?: boolean;
  /**
   * Where lines go. Default: stdout (pino's default, synchronous). A `pino.destination()` gets
   * the lines written together in one write, as stdout does (see BatchedLines); another
   * destination one line per write.
   */
  destination?: DestinationStream;
}

/** The logger's pino, bound to the identity, whether per-call lines are on, and where lines go. */
export interface LogLines {
  log: Logger;
  linesEnabled: boolean;
  /** Writes text made of whole lines (each ending in "\n") where `log` writes. */
  write: (text: string) => void;
}

/** The fields every line of a logger carries (the bindings of its pino). */
export function identityBindings(id: Identity): Record<string, string | undefined> {
  return { machine_id: id.machineId, worker_id: id.workerId, service_type: id.serviceType, connector_id: id.connectorId };
}

/** The fields every line of a job attempt's logger adds (the bindings of its pino child). */
export function attemptBindings(jobId: string, attempt: number, traceId: string, spanId: string): Record<string, string | number> {
  return { job_id: jobId, attempt, trace_id: traceId, span_id: spanId };
}

/** Bindings as the members they add to a line (`,"job_id":"j-1",…`; "" for none). */
export function bindingMembers(bindings: Record<string, unknown>): string {
  const json = flatObjectJson(bindings);
  return json === '{}' ? '' : `,${json.slice(1, -1)}`;
}

/** pino's number of each level. */
export const LEVEL_NUMBER: Readonly<Record<Level, number>> = { debug: 20, info: 30, warn: 40, error: 50 };

/** Creates the identity-bound pino logger. */
export function createLogLines(options: LogLinesOptions): LogLines {
  const linesEnabled = options.stdout ?? true;
  const requested = options.level ?? 'info';
  // With lines off, still say what goes wrong (drops, bad calls) unless told to be silent.
  const level = linesEnabled || requested === 'silent' ? requested : 'warn';
  const given = options.destination;
  if (given !== undefined && !isFileStream(given)) {
    // A destination of the caller's gets one line per write, as pino gives it.
    const log = pino({ level, base: null }, given).child(identityBindings(options.identity));
    return { log, linesEnabled, write: (text) => eachLine(text, given) };
  }
  const out = new BatchedLines(given ?? pino.destination({ dest: 1, sync: true }));
  // pino's own lines (warnings) go after the event lines written before them.
  const log = pino({ level, base: null }, { write: (line: string) => out.writeNow(line) }).child(identityBindings(options.identity));
  return { log, linesEnabled, write: (text) => out.write(text) };
}

/**
 * Whether a destination is pino's own file stream (`pino.destination()`, a SonicBoom: it has a
 * file descriptor and `flushSync`), which writes bytes and takes several lines per write.
 */
function isFileStream(d: DestinationStream): boolean {
  const s = d as Partial<{ fd: unknown; flushSync: unknown }>;
  return typeof s.fd === 'number' && typeof s.flushSync === 'function';
}

/** Writes each line of `text` (lines ending in "\n") on its own. */
function eachLine(text: string, destination: DestinationStream): void {
  for (let from = 0, end = text.indexOf('\n'); end !== -1; from = end + 1, end = text.indexOf('\n', from)) destination.write(text.slice(from, end + 1));
}

/** Lines waiting for the end of the current tick, of every logger (written at exit too). */
const waiting = new Set<BatchedLines>();
let exitHook = false;

/**
 * Event lines to stdout written together: the lines written by one run of synchronous code (a
 * job worker's hand-over of the events of dozens of short jobs, say) go out in one write, from
 * the first microtask after it. A write per line (a system call: stdout is written
 * synchronously) cost more than the lines: in a loop of 100k no-op attempts handed over 75 at a
 * time (2026-12-02, a busy 2-core machine), 15–17 µs of CPU per attempt with one write per
 * hand-over, 26–36 with one per line, 9–11 with lines off. A line written straight through
 * (pino's) first writes what waits, so the order stays; at process exit what waits is written too.
 */
export class BatchedLines {
  private pending = '';

  constructor(private readonly destination: DestinationStream) {}

  write(text: string): void {
    if (this.pending === '') {
      waiting.add(this);
      queueMicrotask(() => this.flush());
      if (!exitHook) {
        exitHook = true;
        process.once('exit', () => {
          for (const b of waiting) b.flush();
        });
      }
    }
    this.pending += text;
  }

  writeNow(line: string): void {
    this.flush();
    this.destination.write(line);
  }

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    waiting.delete(this);
    this.destination.write(text);
  }
}

/**
 * The JSON line of one event, as pino writes `child.<level>({ event_type, event_id, seq, data,
 * event_time?, attrs?, ai? }, message ?? type)`. `head` is `{"level":…,"time":…` with the
 * identity's members, `target` the attempt's members ("" for the logger's own events, see
 * {@link bindingMembers}); `data`, `attrs` and `ai` are JSON.
 */
export function eventLine(
  head: string,
  target: string,
  type: string,
  id: string,
  seq: number,
  data: string,
  at: number | undefined,
  attrs: string | undefined,
  ai: string | undefined,
  message: string | undefined,
): string {
  let s = `${head}${target},"event_type":"${type}","event_id":"${id}","seq":${seq},"data":${data}`;
  // A line written after the fact (a staged event) says when the event happened.
  if (at !== undefined) s += `,"event_time":${at}`;
  if (attrs !== undefined) s += `,"attrs":${attrs}`;
  if (ai !== undefined) s += `,"ai":${ai}`;
  return `${s},"msg":${message === undefined ? `"${type}"` : quote(message)}}\n`;
}
