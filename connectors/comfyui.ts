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
 * GPU-seconds are the wall time of the prompt's execution (from `execution_start`).
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
  const service = `ComfyUI at ${base}`;
  /** For calls that must finish even when the job is cancelled (they still have their own deadline). */
  const unaborted = new AbortController().signal;

  async function call(path: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    try {
      const res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)]) });
      if (!res.ok) throw httpError(service, res.status, await res.text().catch(() => ''));
      return res;
    } catch (err) {
      throw fetchError(service, err, signal, requestTimeoutMs);
    }
  }

  async function run(job: ConnectorJob<ComfyUiJobData>, ctx: ConnectorContext): Promise<ConnectorResult> {
    const workflow = job.data?.workflow;
    if (!workflow || typeof workflow !== 'object' || Object.keys(workflow).length === 0) {
      throw new ConnectorError('ComfyUI job has no "workflow"', { category: 'validation', type: 'ValidationError', retryable: false });
    }
    const model = job.data.model ?? options.model;
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
    const clientId = randomUUID();
    const wsUrl = `${wsBase}/ws?clientId=${clientId}`;
    /** What a failure of the run is: the job's own abort as it is, the deadline as a timeout. */
    const ended = (err: unknown): unknown => {
      if (ctx.signal.aborted) return err;
      if (signal.aborted) return new ConnectorError(`${service} did not finish the prompt within ${timeoutMs} ms`, { category: 'timeout', type: 'TimeoutError' });
      return err;
    };
    // Open (and listening) before the prompt is queued: a fast prompt's messages can beat the POST's reply.
    const conn = { socket: await openComfyUiSocket(wsUrl, signal, requestTimeoutMs).catch((err: unknown) => Promise.reject(ended(err))) };
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
      const tracker = new PromptTracker(promptId, Object.keys(workflow).length, ctx.progress);
      const files = await Promise.race([complete(tracker, conn, wsUrl, signal, stop, ctx), aborted.promise]);
      ctx.reportUsage({ ...(model ? { model } : {}), provider: 'comfyui', gpuSeconds: tracker.executionMs / 1000 });
      ctx.progress(100, { stage: 'done' });
      return { output: { promptId, files }, outputCount: files.length };
    } catch (err) {
      throw ended(err);
    } finally {
      aborted.dispose();
      signal.removeEventListener('abort', onAbort);
      conn.socket.close();
    }
  }

  async function queuePrompt(workflow: Record<string, unknown>, clientId: string, traceparent: string): Promise<string> {
    const headers = { 'content-type': 'application/json', traceparent };
    const res = await call('/prompt', { method: 'POST', headers, body: JSON.stringify({ prompt: workflow, client_id: clientId }) }, unaborted);
    const promptId = ((await res.json()) as { prompt_id?: unknown }).prompt_id;
    if (typeof promptId !== 'string' || promptId === '') throw new ConnectorError(`${service} accepted the prompt but returned no prompt_id`, { category: 'model', type: 'ProtocolError' });
    return promptId;
  }

  /**
   * Follows the prompt to its end and returns its output files. A lost socket is replaced once
   * (same clientId, so ComfyUI sends the rest there); what was sent while none listened is read
   * from `/history` and `/queue`. When the prompt cannot be followed any more it is stopped on
   * ComfyUI before the job fails, so that a retry does not run the workflow twice.
   */
  async function complete(tracker: PromptTracker, conn: { socket: ComfyUiSocket }, wsUrl: string, signal: AbortSignal, stop: (promptId: string) => Promise<void>, ctx: ConnectorContext): Promise<ComfyUiOutputFile[]> {
    const { promptId } = tracker;
    for (let reconnects = 0; ; reconnects++) {
      let lost: ComfyUiSocketLost;
      try {
        await conn.socket.follow(tracker);
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
      if (found === undefined) throw new ConnectorError(`${service} no longer knows prompt ${promptId} (restarted?)`, { category: 'network', type: 'PromptLostError' });
      return historyOutcome(found, tracker);
    }
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
    const res = await call(`/history/${encodeURIComponent(promptId)}`, { method: 'GET' }, signal);
    const body = (await res.json()) as Record<string, HistoryEntry | undefined> | null;
    const entry = body?.[promptId];
    return entry !== null && typeof entry === 'object' ? entry : undefined;
  }

  /** The prompt ids ComfyUI runs and holds queued (`/queue` items are `[number, prompt_id, ...]`). */
  async function queueState(signal: AbortSignal): Promise<{ running: string[]; pending: string[] }> {
    const res = await call('/queue', { method: 'GET' }, signal);
    const body = (await res.json()) as { queue_running?: unknown; queue_pending?: unknown } | null;
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
    const post = async (path: string, body: unknown): Promise<void> => {
      const res = await call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, unaborted);
      await res.arrayBuffer();
    };
    // Best effort: the job already ends (cancelled or failed); a prompt left running costs only GPU time.
    await post('/queue', { delete: [promptId] }).catch(() => undefined);
    const running = await queueState(unaborted).then(
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

/**
 * A promise that rejects when `signal` aborts, to race the run's steps against, and `dispose` to
 * take its listener off at the end (a listener left on keeps the job's combined signal, and what
 * it holds, alive until its deadline).
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
