/**
 * A job attempt's cancellation, with the `AbortController` made only when someone listens.
 * Most connectors that finish fast never read `ctx.signal`; a controller per job was a
 * measurable share of a no-op job's cost. The state is kept here and the signal, when finally
 * asked for, starts in the right state (and follows a linked signal, if any).
 */

/** The abort state of one attempt. */
export interface LazyAbort {
  /** The signal given to the connector; created on first access. */
  readonly signal: AbortSignal;
  /** Whether the attempt was aborted (here, or by the linked signal). */
  readonly aborted: boolean;
  /** Why it was aborted (`undefined` while not aborted). */
  readonly reason: unknown;
  /** Aborts with `reason` unless already aborted. */
  abort(reason: unknown): void;
}

/** Options of {@link createLazyAbort}. */
export interface LazyAbortOptions {
  /** Another signal to follow (e.g. a caller's); this one aborts when it does. */
  link?: AbortSignal | undefined;
  /** Turns the linked signal's reason into ours (e.g. a typed cancel error). Default: as is. */
  fromLink?: (reason: unknown) => unknown;
}

/** Creates the abort state of one attempt; nothing is allocated until `signal` is read. */
export function createLazyAbort(options: LazyAbortOptions = {}): LazyAbort {
  return new LazyAbortState(options.link, options.fromLink);
}

/**
 * A class rather than closures: one is made per job, and most are never aborted. Exported as
 * a base for the runtime's per-attempt object (connector-context.ts), so an attempt is one
 * object, not several.
 */
export class LazyAbortState implements LazyAbort {
  private controller: AbortController | undefined = undefined;
  private isAborted = false;
  private why: unknown = undefined;

  constructor(
    private readonly link: AbortSignal | undefined,
    private readonly fromLink: ((reason: unknown) => unknown) | undefined,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.sync();
      this.controller = new AbortController();
      if (this.isAborted) this.controller.abort(this.why);
      else this.link?.addEventListener('abort', () => this.abort(this.linkReason()), { once: true });
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    this.sync();
    return this.isAborted;
  }

  get reason(): unknown {
    this.sync();
    return this.why;
  }

  abort(r: unknown): void {
    if (this.isAborted) return;
    this.isAborted = true;
    this.why = r;
    this.controller?.abort(r);
  }

  private linkReason(): unknown {
    const r: unknown = this.link?.reason;
    return this.fromLink ? this.fromLink(r) : r;
  }

  /** Picks up an abort of the linked signal no listener has seen yet. */
  private sync(): void {
    if (!this.isAborted && this.link?.aborted) this.abort(this.linkReason());
  }
}
