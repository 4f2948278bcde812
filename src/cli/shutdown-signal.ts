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
 * one is the user insisting: the process exits at once (128 + the signal's number), saying
 * what it skips.
 */

/** How long after the first signal another one counts as the same request, in ms. */
export const ECHO_MS = 1000;

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Options of {@link waitForShutdownSignal}. */
export interface ShutdownSignalOptions {
  /** The sub-command, for the message (`jobscope <command>: …`). */
  command: string;
  stderr: NodeJS.WritableStream;
  /** Ends the process when the user insists. Default `process.exit`. */
  exit?: (code: number) => void;
  /** Clock, in ms. Default `Date.now`. */
  now?: () => number;
}

/** The first stop request, and how to let go of the listeners. */
export interface ShutdownSignal {
  /** Resolves with the first SIGTERM or SIGINT. */
  readonly received: Promise<NodeJS.Signals>;
  /** Removes the listeners (once the drain is over): Node's defaults apply again. Idempotent. */
  dispose(): void;
}

/** Listens for SIGTERM and SIGINT until {@link ShutdownSignal.dispose}. */
export function waitForShutdownSignal(options: ShutdownSignalOptions): ShutdownSignal {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const now = options.now ?? Date.now;
  let firstAt: number | undefined;
  let resolve: (signal: NodeJS.Signals) => void = () => undefined;
  const received = new Promise<NodeJS.Signals>((r) => (resolve = r));

  function onSignal(signal: NodeJS.Signals): void {
    if (firstAt === undefined) {
      firstAt = now();
      resolve(signal);
      return;
    }
    if (now() - firstAt < ECHO_MS) return;
    options.stderr.write(
      `jobscope ${options.command}: ${signal} again: exiting now without finishing the shutdown (running jobs are not handed back; events not yet written to Redis are lost unless a spool holds them)\n`,
    );
    exit(128 + (constants.signals[signal] ?? 0));
  }

  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    received,
    dispose() {
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}
