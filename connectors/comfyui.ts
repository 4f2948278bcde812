import { randomUUID } from 'node:crypto';
import type { Connector, ConnectorContext, ConnectorJob, ConnectorResult } from './connector.js';
import { ConnectorError } from './connector-error.js';
import { abortableSleep } from './abortable-sleep.js';
import { ComfyUiSocketLost, openComfyUiSocket, PromptTracker, type ComfyUiSocket } from './comfyui-socket.js';
import { fetchError, httpError } from './http-errors.js';

/**
 * A connector for ComfyUI: opens the WebSocket `/ws?clientId=`, queues the workflow with
 * POST `/prompt` (`{ prompt, client_id }`), follows progress over the socket (messages that beat
 * the POST's reply included) until `executing` with `node: null`, collects the outputs from
 * GET `/history/<prompt_id>`. A lost socket is reconnected once (the history and `/queue` tell
 * what was missed). On cancellation, deadline or giving up, the prompt is stopped on ComfyUI:
 * POST `/queue` `{ delete: [id] }` while queued, POST `/interrupt` `{ prompt_id }` while running.
 * A prompt that goes quiet (no message about it for `livenessCheckMs`) is looked up over HTTP: a
 * socket can go half-open, and a prompt deleted from the queue gets no message at all.
 * GPU-seconds are the wall time of the prompt's execution (from `execution_start`), reported
 * however the job ends once the execution started (failed, interrupted, timed out, cancelled).
 *
 * Job data: `{ workflow: { <nodeId>: { class_type, inputs } }, model? }`.
 */

/** Options of {@link createComfyUiConnector}. */
export interface ComfyUiConnectorOptions {
  /** ComfyUI's HTTP base, e.g. `http://127.0.0.1:8188`. */
  baseUrl: string;
  /** Deadline of one prompt, queueing included, in ms. Default 1800000 (30 min). */
  timeoutMs?: number;
  /** Deadline of each HTTP call, in ms. Default 30000. */
  requestTimeoutMs?: number;
  /**
   * How long a followed prompt may go without a message about it before ComfyUI is asked over
   * HTTP where it is (`/history/<id>`, `/queue`), in ms: finished → its end is taken from the
   * history; neither there nor queued → the job fails (retryable) at once instead of at the
   * deadline; queued or running → the wait goes on, and so it does when ComfyUI cannot be asked.
   * Default 20000; 0 turns the check off.
   */
  livenessCheckMs?: number;
  /** Service type on events. Default `comfyui`. */
  serviceType?: string;
  /** Model reported when the job names none (priced by GPU-seconds). Default: none. */
  model?: string;
}

/** The job data this connector reads. */
export interface ComfyUiJobData {
  workflow?: Record<string, unknown>;
  /** The checkpoint, for usage and pricing (e.g. `sdxl`, `flux-dev`). */
  model?: string;
}

/** One output file of a prompt. */
export interface ComfyUiOutputFile {
  node: string;
  filename: string;
  subfolder?: string;
  type?: string;
}

/** How many times one job opens a new WebSocket (same clientId) after losing one. */
const MAX_RECONNECTS = 1;
/** Reads of `/history/<id>` for a finished prompt, and the pause between them, before its outputs count as lost. */
const HISTORY_READS = 4;
const HISTORY_PAUSE_MS = 150;

/** A `/history/<id>` entry, as far as this connector reads it. */
interface HistoryEntry {
  outputs?: Record<string, Record<string, unknown>>;
  status?: { status_str?: string; completed?: boolean; messages?: unknown };
}

/** Creates the ComfyUI connector. */
export function createComfyUiConnector(options: ComfyUiConnectorOptions): Connector<ComfyUiJobData> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const wsBase = base.replace(/^http/, 'ws');
  const timeoutMs = options.timeoutMs ?? 1_800_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const livenessCheckMs = options.livenessCheckMs ?? 20_000;
  const service = `ComfyUI at ${base}`;

  /**
   * One HTTP call, its body read by `read` within the same `requestTimeoutMs`. `signal` (the
   * job's) aborts it; calls that must go out even when the job is cancelled have none.
   */
  async function call<T>(path: string, init: RequestInit, signal: AbortSignal | undefined, read: (res: Response) => Promise<T>): Promise<T> {
    const deadline = new ChildSignal(signal, requestTimeoutMs);
    try {
      const res = await fetch(`${base}${path}`, { ...init, signal: deadline.signal });
      if (!res.ok) throw httpError(service, res.status, await res.text().catch(() => ''));
      return await read(res);
    } catch (err) {
      throw fetchError(service, err, signal ?? NEVER_ABORTED, requestTimeoutMs);
    } finally {
      deadline.dispose();
    }
  }

  async function run(job: ConnectorJob<ComfyUiJobData>, ctx: ConnectorContext): Promise<ConnectorResult> {
    const workflow = job.data?.workflow;
    if (!workflow || typeof workflow !== 'object' || Object.keys(workflow).length === 0) {
      throw new ConnectorError('ComfyUI job has no "workflow"', { category: 'validation', type: 'ValidationError', retryable: false });
    }
    const model = job.data.model ?? options.model;
    // The job's signal: aborted by the job's own (cancellation, shutdown) or at the deadline.
    const deadline = new ChildSignal(ctx.signal, timeoutMs);
    const signal = deadline.signal;
    const clientId = randomUUID();
    const wsUrl = `${wsBase}/ws?clientId=${clientId}`;
    let tracker: PromptTracker | undefined;
    let reported = false;
    /** The prompt's GPU time up to now (or its end), once per job whichever way it ends: the runtime prices failed and cancelled attempts too. */
    const reportUsage = (t: PromptTracker): void => {
      if (reported) return;
      reported = true;
      ctx.reportUsage({ ...(model ? { model } : {}), provider: 'comfyui', gpuSeconds: t.executionMs / 1000 });
    };
    try {
      // Open (and listening) before the prompt is queued: a fast prompt's messages can beat the POST's reply.
      const conn = { socket: await openComfyUiSocket(wsUrl, signal, requestTimeoutMs) };
      // Not tied to the job's signal: a prompt ComfyUI accepted while the job was being cancelled must still be stopped.
      const queued = queuePrompt(workflow, clientId, ctx.traceparent);
      let stopping: Promise<void> | undefined;
      const stop = (promptId: string): Promise<void> => (stopping ??= stopPrompt(promptId));
      const onAbort = (): void => {
        conn.socket.close();
        void queued.then(stop, () => undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const aborted = abortRejection(signal);
      try {
        const promptId = await Promise.race([queued, aborted.promise]);
        ctx.progress(0, { stage: 'queued' });
        ctx.log.debug('prompt queued', { promptId });
        tracker = new PromptTracker(promptId, Object.keys(workflow).length, ctx.progress);
        const files = await Promise.race([complete(tracker, conn, wsUrl, signal, stop, ctx), aborted.promise]);
        reportUsage(tracker);
        ctx.progress(100, { stage: 'done' });
        return { output: { promptId, files }, outputCount: files.length };
      } finally {
        aborted.dispose();
        signal.removeEventListener('abort', onAbort);
        conn.socket.close();
      }
    } catch (err) {
      // The job's own abort as it is, the deadline as a timeout.
      if (ctx.signal.aborted || !deadline.expired) throw err;
      throw new ConnectorError(`${service} did not finish the prompt within ${timeoutMs} ms`, { category: 'timeout', type: 'TimeoutError' });
    } finally {
      deadline.dispose();
      // A failure (an OOM), an interrupt, the deadline or a cancel after the execution started: the GPU time was spent all the same.
      if (tracker?.started) reportUsage(tracker);
    }
  }

  async function queuePrompt(workflow: Record<string, unknown>, clientId: string, traceparent: string): Promise<string> {
    const headers = { 'content-type': 'application/json', traceparent };
    const reply = await call('/prompt', { method: 'POST', headers, body: JSON.stringify({ prompt: workflow, client_id: clientId }) }, undefined, (res) => res.json() as Promise<{ prompt_id?: unknown } | null>);
    const promptId = reply?.prompt_id;
    if (typeof promptId !== 'string' || promptId === '') throw new ConnectorError(`${service} accepted the prompt but returned no prompt_id`, { category: 'model', type: 'ProtocolError' });
    return promptId;
  }

  /**
   * Follows the prompt to its end and returns its output files. A lost socket is replaced once
   * (same clientId, so ComfyUI sends the rest there); what was sent while none listened is read
   * from `/history` and `/queue`. When the prompt cannot be followed any more it is stopped on
   * ComfyUI before the job fails, so that a retry does not run the workflow twice. While it is
   * followed, a prompt that goes quiet is looked up (see {@link followWatched}).
   */
  async function complete(tracker: PromptTracker, conn: { socket: ComfyUiSocket }, wsUrl: string, signal: AbortSignal, stop: (promptId: string) => Promise<void>, ctx: ConnectorContext): Promise<ComfyUiOutputFile[]> {
    const { promptId } = tracker;
    for (let reconnects = 0; ; reconnects++) {
      let lost: ComfyUiSocketLost;
      try {
        const followed = await followWatched(tracker, conn.socket, signal, ctx);
        if (followed !== 'finished') return historyOutcome(followed, tracker);
        return await finishedOutputs(promptId, signal);
      } catch (err) {
        if (!(err instanceof ComfyUiSocketLost) || signal.aborted) throw err;
        lost = err;
      }
      let found: HistoryEntry | 'waiting' | undefined;
      try {
        if (reconnects >= MAX_RECONNECTS) throw lost;
        ctx.log.warn('ComfyUI WebSocket lost, reconnecting', { promptId, error: lost.message });
        conn.socket.close();
        conn.socket = await openComfyUiSocket(wsUrl, signal, requestTimeoutMs);
        found = await lookUp(promptId, signal);
      } catch (err) {
        if (signal.aborted) {
          // The job already ended: a socket opened just before the abort is not left open.
          conn.socket.close();
          throw err;
        }
        await stop(promptId);
        const why = err === lost ? lost.message : `${lost.message}, then ${(err as Error).message}`;
        const message = `${why}; prompt ${promptId} was stopped on ComfyUI (best effort) so that a retry does not run it twice`;
        throw new ConnectorError(message, { category: err instanceof ConnectorError ? err.category : 'network', type: err instanceof ConnectorError ? err.type : 'NetworkError', cause: err });
      }
      if (found === 'waiting') continue;
      if (found === undefined) throw promptLost(promptId, 'restarted?');
      return historyOutcome(found, tracker);
    }
  }

  /**
   * Follows the prompt over `socket`, and each time nothing about it arrived for
   * `livenessCheckMs` asks ComfyUI where it is: a half-open socket (NAT or load balancer state
   * lost, host gone without a FIN) stays open and silent, and a prompt deleted from the queue
   * (its UI's delete or clear) gets no message but a `status` broadcast. Resolves `'finished'`
   * when the socket saw the end, or with the prompt's history entry when a check found it
   * finished; rejects as {@link ComfyUiSocket.follow} does, or when ComfyUI no longer knows the
   * prompt. Queued or running, or a check that fails (ComfyUI unreachable for a moment), and the
   * wait goes on: the job's deadline still bounds it.
   */
  async function followWatched(tracker: PromptTracker, socket: ComfyUiSocket, signal: AbortSignal, ctx: ConnectorContext): Promise<'finished' | HistoryEntry> {
    const followed = socket.follow(tracker).then(() => 'finished' as const);
    if (!(livenessCheckMs > 0 && Number.isFinite(livenessCheckMs))) return followed;
    // Its own signal, aborted when following ends, so that a pending pause or check ends with it.
    const watch = new ChildSignal(signal);
    const watching = (async (): Promise<HistoryEntry> => {
      let checkedAt = performance.now();
      for (;;) {
        const quiet = performance.now() - Math.max(tracker.heardAt, checkedAt);
        if (quiet < livenessCheckMs) {
          await abortableSleep(livenessCheckMs - quiet, watch.signal);
          continue;
        }
        checkedAt = performance.now();
        let found: HistoryEntry | 'waiting' | undefined;
        try {
          found = await lookUp(tracker.promptId, watch.signal);
        } catch (err) {
          if (watch.signal.aborted) throw err;
          ctx.log.warn('could not ask ComfyUI about a quiet prompt, still waiting', { promptId: tracker.promptId, error: (err as Error).message });
          continue;
        }
        if (found === 'waiting') continue;
        if (found === undefined) throw promptLost(tracker.promptId, `nothing heard of it for ${livenessCheckMs} ms; deleted from the queue, or ComfyUI restarted?`);
        ctx.log.warn('ComfyUI finished the prompt but its end never reached the WebSocket, reading it from the history', { promptId: tracker.promptId });
        return found;
      }
    })();
    try {
      return await Promise.race([followed, watching]);
    } finally {
      watch.abort();
      watch.dispose();
    }
  }

  /** A prompt ComfyUI no longer knows: neither queued, running nor in the history. Retryable: nothing of it runs any more. */
  function promptLost(promptId: string, why: string): ConnectorError {
    return new ConnectorError(`${service} no longer knows prompt ${promptId} (${why})`, { category: 'network', type: 'PromptLostError' });
  }

  /**
   * The outputs of a finished prompt. ComfyUI stores the history before it reports the end, so
   * the first read normally has them; a few short reads cover a server that reports first. No
   * entry at all fails the job: its files are unknown (history cleared or trimmed), and a retry
   * is cheap (ComfyUI's cache answers a repeated workflow).
   */
  async function finishedOutputs(promptId: string, signal: AbortSignal): Promise<ComfyUiOutputFile[]> {
    for (let read = 1; ; read++) {
      const entry = await historyEntry(promptId, signal);
      if (entry) return outputFiles(entry.outputs ?? {});
      if (read >= HISTORY_READS) {
        throw new ConnectorError(`${service} finished prompt ${promptId} but has no history of it, so its outputs are unknown`, { category: 'model', type: 'MissingHistoryError' });
      }
      await abortableSleep(HISTORY_PAUSE_MS, signal);
    }
  }

  /** Where a prompt is after messages may have been missed: its history entry, `'waiting'` (queued or running), or undefined (ComfyUI forgot it). */
  async function lookUp(promptId: string, signal: AbortSignal): Promise<HistoryEntry | 'waiting' | undefined> {
    const entry = await historyEntry(promptId, signal);
    if (entry) return entry;
    const queue = await queueState(signal);
    if (queue.running.includes(promptId) || queue.pending.includes(promptId)) return 'waiting';
    // It may have ended between the two reads: ComfyUI stores the history as the prompt leaves the queue.
    return await historyEntry(promptId, signal);
  }

  /** The end of a prompt that finished while no socket listened, from its history entry's status messages. */
  function historyOutcome(entry: HistoryEntry, tracker: PromptTracker): ComfyUiOutputFile[] {
    const messages = Array.isArray(entry.status?.messages) ? (entry.status.messages as unknown[]) : [];
    const parsed = messages.flatMap((m) => (Array.isArray(m) && typeof m[0] === 'string' ? [{ type: m[0], data: (m[1] !== null && typeof m[1] === 'object' ? m[1] : {}) as Record<string, unknown> }] : []));
    // ComfyUI's timestamps (ms) placed on this process's clock, the last one being now.
    const stamps = parsed.map((m) => m.data.timestamp).filter((t): t is number => typeof t === 'number');
    const last = stamps.length > 0 ? Math.max(...stamps) : undefined;
    const now = performance.now();
    for (const m of parsed) {
      const at = last !== undefined && typeof m.data.timestamp === 'number' ? now - (last - m.data.timestamp) : now;
      const outcome = tracker.apply({ type: m.type, data: { ...m.data, prompt_id: tracker.promptId } }, at);
      if (outcome instanceof Error) throw outcome;
    }
    if (entry.status?.status_str === 'error') throw new ConnectorError(`${service} reports prompt ${tracker.promptId} as failed`, { category: 'model', type: 'ExecutionError' });
    return outputFiles(entry.outputs ?? {});
  }

  async function historyEntry(promptId: string, signal: AbortSignal): Promise<HistoryEntry | undefined> {
    const body = await call(`/history/${encodeURIComponent(promptId)}`, { method: 'GET' }, signal, (res) => res.json() as Promise<Record<string, HistoryEntry | undefined> | null>);
    const entry = body?.[promptId];
    return entry !== null && typeof entry === 'object' ? entry : undefined;
  }

  /** The prompt ids ComfyUI runs and holds queued (`/queue` items are `[number, prompt_id, ...]`). */
  async function queueState(signal: AbortSignal | undefined): Promise<{ running: string[]; pending: string[] }> {
    const body = await call('/queue', { method: 'GET' }, signal, (res) => res.json() as Promise<{ queue_running?: unknown; queue_pending?: unknown } | null>);
    const ids = (list: unknown): string[] => (Array.isArray(list) ? list.flatMap((item) => (Array.isArray(item) && typeof item[1] === 'string' ? [item[1]] : [])) : []);
    return { running: ids(body?.queue_running), pending: ids(body?.queue_pending) };
  }

  /**
   * Stops a prompt on ComfyUI, best effort: POST `/queue` `{ delete }` removes it while it waits,
   * POST `/interrupt` `{ prompt_id }` stops it while it runs. Current ComfyUI interrupts only the
   * named prompt; older ones whatever runs, so the interrupt goes out only when `/queue` lists
   * ours as running (or cannot say).
   */
  async function stopPrompt(promptId: string): Promise<void> {
    const post = (path: string, body: unknown): Promise<ArrayBuffer> => call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, undefined, (res) => res.arrayBuffer());
    // Best effort: the job already ends (cancelled or failed); a prompt left running costs only GPU time.
    await post('/queue', { delete: [promptId] }).catch(() => undefined);
    const running = await queueState(undefined).then(
      (q) => q.running.includes(promptId),
      () => true,
    );
    if (running) await post('/interrupt', { prompt_id: promptId }).catch(() => undefined);
  }

  return { serviceType: options.serviceType ?? 'comfyui', name: 'comfyui', run };
}

/** Every file (`{ filename, subfolder, type }`) in a history entry's outputs. */
export function outputFiles(outputs: Record<string, Record<string, unknown>>): ComfyUiOutputFile[] {
  const files: ComfyUiOutputFile[] = [];
  for (const [node, out] of Object.entries(outputs)) {
    for (const list of Object.values(out)) {
      if (!Array.isArray(list)) continue;
      for (const f of list as { filename?: unknown; subfolder?: unknown; type?: unknown }[]) {
        if (f === null || typeof f !== 'object' || typeof f.filename !== 'string') continue;
        files.push({
          node,
          filename: f.filename,
          ...(typeof f.subfolder === 'string' ? { subfolder: f.subfolder } : {}),
          ...(typeof f.type === 'string' ? { type: f.type } : {}),
        });
      }
    }
  }
  return files;
}

/** The longest delay setTimeout takes (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** Stands for "no caller's signal" where one is asked for: never aborted, and never handed to anything that keeps it. */
const NEVER_ABORTED = new AbortController().signal;

/**
 * A signal of its own that aborts with `parent` (its reason) and, given `ms`, when that time has
 * passed (a `TimeoutError`; {@link expired} tells it apart). Not `AbortSignal.any` with
 * `AbortSignal.timeout`: Node 20's `any` holds its sources weakly, so a garbage collection takes
 * the timeout signal and the deadline never comes (nodejs/node#57736); and `any` keeps an entry
 * on each source for good, which piles up on a long-lived one. {@link dispose} clears the timer
 * and takes the listener off `parent` (which outlives this: the job's signal, the worker's).
 */
class ChildSignal {
  readonly signal: AbortSignal;
  expired = false;
  private readonly controller = new AbortController();
  private readonly parent: AbortSignal | undefined;
  private readonly timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onParentAbort = (): void => this.abort(this.parent?.reason);

  constructor(parent: AbortSignal | undefined, ms?: number) {
    this.signal = this.controller.signal;
    this.parent = parent;
    if (ms !== undefined && Number.isFinite(ms)) {
      // Capped: a longer delay overflows setTimeout, which then fires after 1 ms.
      this.timer = setTimeout(() => {
        this.expired = true;
        this.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError'));
      }, Math.min(ms, MAX_TIMER_MS));
    }
    if (parent?.aborted) this.abort(parent.reason);
    else parent?.addEventListener('abort', this.onParentAbort, { once: true });
  }

  abort(reason?: unknown): void {
    clearTimeout(this.timer);
    this.controller.abort(reason);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }
}

/**
 * A promise that rejects when `signal` aborts, to race the run's steps against, and `dispose` to
 * take its listener off at the end (a listener left on keeps what it holds alive as long as the
 * job's signal lives).
 */
function abortRejection(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let fail = (): void => undefined;
  const promise = new Promise<never>((_, reject) => {
    fail = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  });
  // Raced while the run lasts; an abort after it is nobody's business.
  promise.catch(() => undefined);
  if (signal.aborted) fail();
  else signal.addEventListener('abort', fail, { once: true });
  return { promise, dispose: () => signal.removeEventListener('abort', fail) };
}
