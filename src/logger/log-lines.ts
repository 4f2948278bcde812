import { pino, type DestinationStream, type Logger } from 'pino';
import type { Identity } from '../events/index.js';

/**
 * The logger's own JSON lines (pino): one per call, so a worker's log view is useful with no
 * pipeline running. The identity is bound once (pino serializes bindings once per child), and
 * each job attempt gets a child with its trace and job fields, so a call serializes only what
 * is new in it.
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
  /** Where lines go. Default: stdout (pino's default, synchronous). */
  destination?: DestinationStream;
}

/** The logger's pino, bound to the identity, and whether per-call lines are on. */
export interface LogLines {
  log: Logger;
  linesEnabled: boolean;
}

/** Creates the identity-bound pino logger. */
export function createLogLines(options: LogLinesOptions): LogLines {
  const linesEnabled = options.stdout ?? true;
  const requested = options.level ?? 'info';
  // With lines off, still say what goes wrong (drops, bad calls) unless told to be silent.
  const level = linesEnabled || requested === 'silent' ? requested : 'warn';
  const root = pino({ level, base: null }, options.destination ?? pino.destination({ dest: 1, sync: true }));
  const id = options.identity;
  const log = root.child({
    machine_id: id.machineId,
    worker_id: id.workerId,
    service_type: id.serviceType,
    connector_id: id.connectorId,
  });
  return { log, linesEnabled };
}
