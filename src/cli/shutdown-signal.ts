import { constants } from 'node:os';

/**
 * How the long-running commands (`start`, `worker`, `pipeline`, `api`, `demo`) learn that they
 * must stop: the first SIGTERM or SIGINT starts their drain.
 *
 * The listeners stay while the drain runs. Node's default for a signal nobody listens to is to
 * die at once, and one Ctrl-C often arrives more than once: the terminal signals the whole
 * process group, and `npm start` (npm, then scripts/start.mjs) passes it on to the CLI as well.
 * With the listeners gone after the first delivery, the second one killed the stack in the
 * middle of its drain (exit 130, running jobs not handed back, buffered events not written).
 *
 * A delivery within {@link ECHO_MS} of the first is that same request, relayed: ignored. A later
 * one is the user insisting: the process exits at once (128 + the signal's number), saying what
 * it skips. Once the drain is over ({@link ShutdownSignal.finished}) a later signal just ends
 * the process with that code, quietly.
 */

/** How long after the first signal another one counts as the same request, in ms. */
export const ECHO_MS = 1000;

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** What a forced exit skips in a process that runs job workers (`skipped` of worker, demo, start). */
export const WORKERS_SKIPPED =
  'running jobs stay active in BullMQ until their lock expires, then run again; events not yet written to Redis (and worker.stopped) are lost';

/** Options of {@link waitForShutdownSignal}. */
export interface ShutdownSignalOptions {
  /** The sub-command, for the message (`jobscope <command>: …`). */
  command: string;
  stderr: NodeJS.WritableStream;
  /** What exiting before the drain is over leaves undone, said when the user insists. */
  skipped: string;
  /** Synchronous last steps of a forced exit (e.g. stopping a child process). */
  onForce?: () => void;
  /** Ends the process. Default `process.exit`. */
  exit?: (code: number) => void;
  /** Clock, in ms. Default `Date.now`. */
  now?: () => number;
}

/** The first stop request, and what comes after. */
export interface ShutdownSignal {
  /** Resolves with the first SIGTERM or SIGINT. */
  readonly received: Promise<NodeJS.Signals>;
  /** The drain is over: a later signal (past the echo window) ends the process quietly. */
  finished(): void;
  /** Removes the listeners: Node's defaults apply again (for callers that live on). Idempotent. */
  dispose(): void;
}

/** Listens for SIGTERM and SIGINT until {@link ShutdownSignal.dispose}. */
export function waitForShutdownSignal(options: ShutdownSignalOptions): ShutdownSignal {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const now = options.now ?? Date.now;
  let firstAt: number | undefined;
  let done = false;
  let resolve: (signal: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<NodeJS.Signals>((r) => (resolve = r));

  function onSignal(signal: NodeJS.Signals): void {
    if (firstAt === undefined) {
      firstAt = now();
      resolve(signal);
      return;
    }
    if (now() - firstAt < ECHO_MS) return;
    if (!done) {
      options.stderr.write(`jobscope ${options.command}: ${signal} again: exiting now, before the shutdown is over: ${options.skipped}\n`);
      try {
        options.onForce?.();
      } catch {
        // Exiting anyway: the user asked twice.
      }
    }
    exit(128 + (constants.signals[signal] ?? 0));
  }

  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    received,
    finished() {
      done = true;
    },
    dispose() {
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}

/**
 * Runs a long-running command's `body` with {@link waitForShutdownSignal}'s first stop request
 * (`received`), and marks the drain over when the body returns or throws.
 */
export async function runUntilStopped<T>(options: ShutdownSignalOptions, body: (received: Promise<NodeJS.Signals>) => Promise<T>): Promise<T> {
  const shutdown = waitForShutdownSignal(options);
  try {
    return await body(shutdown.received);
  } finally {
    shutdown.finished();
  }
}
