import { randomUUID } from 'node:crypto';
import type { Connector, ConnectorContext, ConnectorJob, ConnectorResult } from './connector.js';
import { ConnectorError } from './connector-error.js';
import { openComfyUiSocket } from './comfyui-socket.js';
import { fetchError, httpError } from './http-errors.js';

/**
 * A connector for ComfyUI: opens the WebSocket `/ws?clientId=`, queues the workflow with
 * POST `/prompt` (`{ prompt, client_id }`), follows progress over the socket, collects the
 * outputs from GET `/history/<prompt_id>`, and on cancellation calls POST `/interrupt`.
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

/** Creates the ComfyUI connector. */
export function createComfyUiConnector(options: ComfyUiConnectorOptions): Connector<ComfyUiJobData> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const wsBase = base.replace(/^http/, 'ws');
  const timeoutMs = options.timeoutMs ?? 1_800_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const service = `ComfyUI at ${base}`;

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
    const socket = await openComfyUiSocket(`${wsBase}/ws?clientId=${clientId}`, signal);
    let promptId: string | undefined;
    const onAbort = (): void => {
      socket.close();
      if (promptId) void interrupt(promptId);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const headers = { 'content-type': 'application/json', traceparent: ctx.traceparent };
      const res = await call('/prompt', { method: 'POST', headers, body: JSON.stringify({ prompt: workflow, client_id: clientId }) }, signal);
      promptId = ((await res.json()) as { prompt_id?: string }).prompt_id;
      if (!promptId) throw new ConnectorError(`${service} accepted the prompt but returned no prompt_id`, { category: 'model', type: 'ProtocolError' });
      ctx.progress(0, { stage: 'queued' });
      ctx.log.debug('prompt queued', { promptId });
      const exec = await Promise.race([socket.follow(promptId, Object.keys(workflow).length, ctx.progress), rejectOnAbort(signal)]);
      ctx.reportUsage({ ...(model ? { model } : {}), provider: 'comfyui', gpuSeconds: exec.executionMs / 1000 });
      const files = await history(promptId, signal);
      ctx.progress(100, { stage: 'done' });
      return { output: { promptId, files }, outputCount: files.length };
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (signal.aborted) throw new ConnectorError(`${service} did not finish the prompt within ${timeoutMs} ms`, { category: 'timeout', type: 'TimeoutError' });
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      socket.close();
    }
  }

  async function interrupt(promptId: string): Promise<void> {
    try {
      // Newer ComfyUI interrupts only the named prompt; older ones ignore the body.
      await fetch(`${base}/interrupt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt_id: promptId }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch {
      // Best effort: the job is already reported cancelled; ComfyUI finishing it costs only GPU time.
    }
  }

  async function history(promptId: string, signal: AbortSignal): Promise<ComfyUiOutputFile[]> {
    const res = await call(`/history/${encodeURIComponent(promptId)}`, { method: 'GET' }, signal);
    const body = (await res.json()) as Record<string, { outputs?: Record<string, Record<string, unknown>> }>;
    return outputFiles(body[promptId]?.outputs ?? {});
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

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
