import WebSocket from 'ws';
import { classifyError } from '../src/events/index.js';
import type { ProgressDetail } from './connector.js';
import { ConnectorError } from './connector-error.js';

/**
 * Follows one prompt over ComfyUI's WebSocket (`/ws?clientId=`): `execution_start`,
 * `execution_cached`, `executing`, `progress` {value,max}, `executed`, `execution_success`,
 * `execution_error`, `execution_interrupted`. Binary frames (previews) are ignored.
 *
 * ComfyUI's order at the end of a prompt: `execution_success` (sent inside `execute()`), then the
 * history entry is stored (`task_done`), then `executing` with `node: null` and the prompt's id.
 * So the prompt counts as finished on that last message, when `/history/<id>` has its outputs.
 */

/** Messages kept from the socket's opening until a prompt is followed (the oldest are dropped beyond). */
const MAX_BUFFERED = 1000;
/** After `execution_success`, how long to wait for `executing` `node: null` before reading the history anyway. */
const SUCCESS_GRACE_MS = 2000;

/** One open socket, created before the prompt is queued: it keeps what arrives until {@link follow} is called. */
export interface ComfyUiSocket {
  /**
   * Follows the prompt: first the messages that arrived since the socket opened, then live ones.
   * Resolves when the prompt finished; rejects with its failure (error, interrupt) or, when the
   * socket closed or failed, with a {@link ComfyUiSocketLost}. Called once per socket.
   */
  follow(tracker: PromptTracker): Promise<void>;
  close(): void;
}

/** The socket closed or failed before the prompt finished; the prompt may still run on ComfyUI. */
export class ComfyUiSocketLost extends ConnectorError {
  override readonly name: string = 'ComfyUiSocketLost';
}

/** One message of the socket (or a history entry's status message). */
export interface ComfyUiMessage {
  type: string;
  data?: Record<string, unknown>;
}

/** What a message meant for the prompt: it finished, it succeeded (the end follows), or it failed. */
export type MessageOutcome = 'finished' | 'succeeded' | ConnectorError | undefined;

/**
 * The messages that tell the prompt is alive. Not `status`: ComfyUI broadcasts it on every change
 * of the queue, other clients' included, and it is all a prompt deleted from the queue gets.
 */
const PROMPT_MESSAGES = new Set(['execution_start', 'execution_cached', 'executing', 'progress', 'executed', 'execution_success', 'execution_error', 'execution_interrupted']);

/**
 * The state of one prompt, across the sockets that follow it (a reconnect keeps it): progress that
 * never goes backwards, and the execution's wall time.
 */
export class PromptTracker {
  private readonly done = new Set<string>();
  private current: string | undefined;
  private percent = 0;
  private startedAt: number | undefined;
  private endedAt: number | undefined;
  private readonly followedAt = performance.now();
  private lastHeardAt = this.followedAt;

  constructor(
    readonly promptId: string,
    private readonly totalNodes: number,
    private readonly onProgress: (percent: number, detail: ProgressDetail) => void,
  ) {}

  /** Wall time from `execution_start` to `execution_success` (or to now), in ms. */
  get executionMs(): number {
    return Math.max(0, (this.endedAt ?? performance.now()) - (this.startedAt ?? this.followedAt));
  }

  /** True once `execution_start` was seen: from then on the prompt uses GPU time. */
  get started(): boolean {
    return this.startedAt !== undefined;
  }

  /** When (`performance.now()`) the last message about this prompt arrived; when it started to be followed before any. */
  get heardAt(): number {
    return this.lastHeardAt;
  }

  /** Applies one message received at `at` (`performance.now()`); other prompts' messages are ignored. */
  apply(msg: ComfyUiMessage, at: number): MessageOutcome {
    const d = msg.data ?? {};
    if (d.prompt_id !== undefined && d.prompt_id !== this.promptId) return undefined;
    if (PROMPT_MESSAGES.has(msg.type)) this.lastHeardAt = Math.max(this.lastHeardAt, at);
    switch (msg.type) {
      case 'execution_start':
        this.startedAt ??= at;
        this.report(0, 0, 'started');
        return undefined;
      case 'execution_cached':
        for (const n of Array.isArray(d.nodes) ? (d.nodes as unknown[]) : []) this.done.add(String(n));
        this.report(0, 0, 'cached');
        return undefined;
      case 'executing':
        if (this.current !== undefined) this.done.add(this.current);
        if (d.node === null || d.node === undefined) return d.prompt_id === this.promptId ? 'finished' : undefined;
        this.current = String(d.node as string);
        this.report(0, 0, `node ${this.current}`);
        return undefined;
      case 'progress':
        this.report(Number(d.value ?? 0), Number(d.max ?? 0), this.current !== undefined ? `node ${this.current}` : 'sampling');
        return undefined;
      case 'executed':
        if (d.node !== undefined) this.done.add(String(d.node as string));
        return undefined;
      case 'execution_success':
        this.endedAt ??= at;
        return 'succeeded';
      case 'execution_error':
        this.endedAt ??= at;
        return executionError(d);
      case 'execution_interrupted':
        this.endedAt ??= at;
        return interruptedError(this.promptId, d);
      default:
        return undefined;
    }
  }

  private report(value: number, max: number, stage: string | undefined): void {
    const nodeShare = max > 0 ? Math.min(1, value / max) : 0;
    const overall = this.totalNodes > 0 ? ((this.done.size + nodeShare) / this.totalNodes) * 100 : nodeShare * 100;
    // Never backwards: a second sampler restarts its own count, not the job's.
    this.percent = Math.max(this.percent, Math.min(99, overall));
    this.onProgress(this.percent, { step: value, totalSteps: max, ...(stage ? { stage } : {}) });
  }
}

interface Received {
  msg: ComfyUiMessage;
  at: number;
}

/**
 * Opens the socket and waits for it to be ready. From then on it keeps an `error` listener for
 * its whole life (a late `error`, e.g. an oversized frame, fails the followed prompt instead of
 * the process) and buffers the messages that carry a prompt id until {@link ComfyUiSocket.follow}.
 */
export async function openComfyUiSocket(wsUrl: string, signal: AbortSignal, handshakeTimeoutMs = 30_000): Promise<ComfyUiSocket> {
  // The handshake has a bound of its own: a server that takes the connection and never upgrades
  // it would otherwise hold the job until its deadline.
  const ws = new WebSocket(wsUrl, { maxPayload: 16 * 1024 * 1024, handshakeTimeout: handshakeTimeoutMs });
  const buffered: Received[] = [];
  let lost: ComfyUiSocketLost | undefined;
  let waiter: { deliver: (r: Received) => void; reject: (err: Error) => void } | undefined;
  let onOpenFailure: ((err: Error) => void) | undefined;

  const loseWith = (err: ComfyUiSocketLost): void => {
    lost ??= err;
    onOpenFailure?.(lost);
    const w = waiter;
    waiter = undefined;
    w?.reject(lost);
  };
  ws.on('error', (err) => loseWith(new ComfyUiSocketLost(`ComfyUI WebSocket ${wsUrl} failed: ${err.message}`, { category: 'network', type: 'NetworkError', cause: err })));
  ws.on('close', (code) => loseWith(new ComfyUiSocketLost(`ComfyUI WebSocket closed before the prompt finished (code ${code})`, { category: 'network', type: 'NetworkError' })));
  ws.on('message', (raw, isBinary) => {
    if (isBinary) return;
    let msg: ComfyUiMessage;
    try {
      msg = JSON.parse(raw.toString()) as ComfyUiMessage;
    } catch {
      return;
    }
    if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string') return;
    const received = { msg, at: performance.now() };
    if (waiter) return waiter.deliver(received);
    // Before the prompt id is known only messages naming a prompt can matter.
    if (typeof msg.data?.prompt_id !== 'string') return;
    buffered.push(received);
    if (buffered.length > MAX_BUFFERED) buffered.shift();
  });

  await new Promise<void>((resolve, reject) => {
    const settle = (err: Error | undefined): void => {
      signal.removeEventListener('abort', onAbort);
      onOpenFailure = undefined;
      if (err) reject(err);
      else resolve();
    };
    const onAbort = (): void => {
      ws.terminate();
      settle(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    onOpenFailure = (err) => settle(err);
    ws.once('open', () => settle(undefined));
  });

  return {
    follow: (tracker) =>
      new Promise<void>((resolve, reject) => {
        let graceTimer: NodeJS.Timeout | undefined;
        const end = (err: Error | undefined): void => {
          clearTimeout(graceTimer);
          waiter = undefined;
          if (err) reject(err);
          else resolve();
        };
        const deliver = (r: Received): void => {
          const outcome = tracker.apply(r.msg, r.at);
          if (outcome === 'finished') end(undefined);
          else if (outcome instanceof Error) end(outcome);
          // A server that never sends the final `executing` still gets its history read.
          else if (outcome === 'succeeded') graceTimer ??= setTimeout(() => end(undefined), SUCCESS_GRACE_MS);
        };
        waiter = { deliver, reject: (err) => end(err) };
        for (const r of buffered.splice(0)) {
          if (waiter === undefined) return;
          deliver(r);
        }
        if (waiter !== undefined && lost) end(lost);
      }),
    close: () => ws.terminate(),
  };
}

function executionError(d: Record<string, unknown>): ConnectorError {
  const type = typeof d.exception_type === 'string' ? d.exception_type : 'ExecutionError';
  const message = typeof d.exception_message === 'string' ? d.exception_message : 'execution failed';
  const node = d.node_type !== undefined ? ` in node ${String(d.node_id as string)} (${String(d.node_type as string)})` : '';
  const category = classifyError(type, message);
  return new ConnectorError(`ComfyUI execution error${node}: ${message}`.slice(0, 4000), {
    category: category === 'unknown' ? 'model' : category,
    type: type.slice(0, 128),
    retryable: category !== 'validation',
  });
}

/**
 * An interrupt this job did not ask for (the job's own cancellation ends the job before any
 * `execution_interrupted` is read): someone stopped the prompt on ComfyUI, e.g. from its UI.
 * A failure, not retried (whoever stopped it meant it), classified `cancelled`.
 */
function interruptedError(promptId: string, d: Record<string, unknown>): ConnectorError {
  const node = d.node_type !== undefined ? ` in node ${String(d.node_id as string)} (${String(d.node_type as string)})` : '';
  return new ConnectorError(`ComfyUI interrupted prompt ${promptId}${node}, not at this job's request (stopped on the ComfyUI server, e.g. from its UI)`, {
    category: 'cancelled',
    type: 'InterruptedError',
    retryable: false,
  });
}
