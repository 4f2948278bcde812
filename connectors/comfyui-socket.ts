import WebSocket from 'ws';
import { classifyError } from '../src/events/index.js';
import type { ProgressDetail } from './connector.js';
import { ConnectorError } from './connector-error.js';

/**
 * Follows one prompt over ComfyUI's WebSocket (`/ws?clientId=`): `execution_start`,
 * `execution_cached`, `executing`, `progress` {value,max}, `executed`, `execution_success`,
 * `execution_error`, `execution_interrupted`. Binary frames (previews) are ignored.
 */

/** One open socket, created before the prompt is queued so no message is missed. */
export interface ComfyUiSocket {
  /** Resolves when the prompt finished; rejects on error, interrupt, close or abort. */
  follow(promptId: string, totalNodes: number, onProgress: (percent: number, detail: ProgressDetail) => void): Promise<ExecutionResult>;
  close(): void;
}

/** Timing of a finished prompt. */
export interface ExecutionResult {
  /** Wall time from `execution_start` to `execution_success`, in ms. */
  executionMs: number;
}

interface Message {
  type: string;
  data?: Record<string, unknown>;
}

/** Opens the socket and waits for it to be ready. */
export async function openComfyUiSocket(wsUrl: string, signal: AbortSignal): Promise<ComfyUiSocket> {
  const ws = new WebSocket(wsUrl, { maxPayload: 16 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      ws.terminate();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    ws.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(new ConnectorError(`ComfyUI WebSocket ${wsUrl} failed: ${err.message}`, { category: 'network', type: 'NetworkError', cause: err }));
    });
  });
  return {
    follow: (promptId, totalNodes, onProgress) => follow(ws, promptId, totalNodes, onProgress),
    close: () => ws.terminate(),
  };
}

function follow(ws: WebSocket, promptId: string, totalNodes: number, onProgress: (percent: number, detail: ProgressDetail) => void): Promise<ExecutionResult> {
  return new Promise((resolve, reject) => {
    const done = new Set<string>();
    let startedAt = performance.now();
    let current: string | undefined;
    let percent = 0;
    const report = (value: number, max: number, stage: string | undefined): void => {
      const nodeShare = max > 0 ? Math.min(1, value / max) : 0;
      const overall = totalNodes > 0 ? ((done.size + nodeShare) / totalNodes) * 100 : nodeShare * 100;
      // Never backwards: a second sampler restarts its own count, not the job's.
      percent = Math.max(percent, Math.min(99, overall));
      onProgress(percent, { step: value, totalSteps: max, ...(stage ? { stage } : {}) });
    };
    const finish = (err: Error | undefined): void => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (err) reject(err);
      else resolve({ executionMs: performance.now() - startedAt });
    };
    const onClose = (): void => finish(new ConnectorError('ComfyUI WebSocket closed before the prompt finished', { category: 'network', type: 'NetworkError' }));
    const onMessage = (raw: WebSocket.RawData, isBinary: boolean): void => {
      if (isBinary) return;
      let msg: Message;
      try {
        msg = JSON.parse(raw.toString()) as Message;
      } catch {
        return;
      }
      const d = msg.data ?? {};
      if (d.prompt_id !== undefined && d.prompt_id !== promptId) return;
      switch (msg.type) {
        case 'execution_start':
          startedAt = performance.now();
          report(0, 0, 'started');
          break;
        case 'execution_cached':
          for (const n of (d.nodes as string[] | undefined) ?? []) done.add(String(n));
          report(0, 0, 'cached');
          break;
        case 'executing':
          if (current !== undefined) done.add(current);
          if (d.node === null || d.node === undefined) {
            if (d.prompt_id === promptId) finish(undefined);
            break;
          }
          current = String(d.node as string);
          report(0, 0, `node ${current}`);
          break;
        case 'progress':
          report(Number(d.value ?? 0), Number(d.max ?? 0), current !== undefined ? `node ${current}` : 'sampling');
          break;
        case 'executed':
          if (d.node !== undefined) done.add(String(d.node as string));
          break;
        case 'execution_success':
          finish(undefined);
          break;
        case 'execution_error':
          finish(executionError(d));
          break;
        case 'execution_interrupted':
          finish(new ConnectorError('ComfyUI interrupted the prompt', { category: 'cancelled', type: 'InterruptedError', retryable: false }));
          break;
      }
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
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
