/**
 * A job attempt's cancellation, with the `AbortController` made only when someone listens.
 * Most connectors that finish fast never read `ctx.signal`; a controller and a listener on
 * BullMQ's own signal per job were a measurable share of a no-op job's cost. The state is kept
 * here and the signal, when finally asked for, starts in the right state and follows BullMQ's.
 */

/** The abort state of one attempt. */
export interface LazyAbort {
  /** The signal given to the connector; created on first access. */
  readonly signal: AbortSignal;
  /** Whether the attempt was aborted (here, or by BullMQ's signal). */
  readonly aborted: boolean;
  /** Why it was aborted (`undefined` while not aborted). */
  readonly reason: unknown;
  /** Aborts with `reason` unless already aborted. */
  abort(reason: unknown): void;
}

/** Options of {@link createLazyAbort}. */
export interface LazyAbortOptions {
  /** BullMQ's signal for the job (its `Worker.cancelJob`); followed when it aborts. */
  link?: AbortSignal | undefined;
  /** Turns the linked signal's reason into ours (e.g. a typed cancel error). */
  fromLink: (reason: unknown) => unknown;
}

/** Creates the abort state of one attempt; nothing is allocated until `signal` is read. */
export function createLazyAbort(options: LazyAbortOptions): LazyAbort {
  const { link, fromLink } = options;
  let controller: AbortController | undefined;
  let aborted = false;
  let reason: unknown;

  function abort(r: unknown): void {
    if (aborted) return;
    aborted = true;
    reason = r;
    controller?.abort(r);
  }
  /** Picks up an abort of the linked signal no listener has seen yet. */
  function sync(): void {
    if (!aborted && link?.aborted) abort(fromLink(link.reason));
  }

  return {
    get signal() {
      if (!controller) {
        sync();
        controller = new AbortController();
        if (aborted) controller.abort(reason);
        else link?.addEventListener('abort', () => abort(fromLink(link.reason)), { once: true });
      }
      return controller.signal;
    },
    get aborted() {
      sync();
      return aborted;
    },
    get reason() {
      sync();
      return reason;
    },
    abort,
  };
}
