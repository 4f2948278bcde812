import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A local server speaking ComfyUI's protocol, in ComfyUI's order: POST /prompt
 * (`{ prompt, client_id }` → `{ prompt_id, number, node_errors }`), the WebSocket /ws?clientId=
 * (`status` on connect; `execution_start`, `execution_cached`, `executing`, `progress` {value,max},
 * `executed`, then `execution_success` / `execution_error` / `execution_interrupted`, all with the
 * prompt id, sent to whatever socket holds the prompt's client id at that moment), then the history
 * entry is stored and only after it `executing` `{ node: null, prompt_id }` (as main.py's worker
 * does after `task_done`). GET /history/<id> (`{}` when unknown), GET /queue (`queue_running`,
 * `queue_pending` items `[number, prompt_id, prompt, extra_data, outputs]`), POST /queue
 * `{ delete: [ids] }` (removes queued prompts only) and `{ clear }`, POST /interrupt (with
 * `{ prompt_id }` only that prompt and only while it runs; without, whatever runs).
 *
 * A workflow node's `inputs` steer it: a KSampler's `steps` sets the progress count, `stepMs`
 * the time per step, `fail: "oom"` raises a CUDA OOM.
 */

/** How the fake behaves; see {@link startComfyUiServer}. */
export interface ComfyUiServerOptions {
  /** One prompt at a time in submission order, like ComfyUI's single prompt worker. Default: every prompt runs at once. */
  fifo?: boolean;
  /**
   * When POST /prompt answers: at once (default), after this many ms, or `'after-run'`, once the
   * prompt finished (all its messages reach the socket before its prompt_id reaches the client).
   */
  replyDelay?: number | 'after-run';
  /** Milliseconds from `execution_success` to storing the history (and then `executing` null). Default 20. */
  historyDelayMs?: number;
  /** False: finished prompts get no history entry (as after POST /history `{ clear }`). Default true. */
  storeHistory?: boolean;
}

export type PromptStatus = 'queued' | 'running' | 'success' | 'error' | 'interrupted' | 'deleted';

/** A prompt the server received. */
export interface ReceivedPrompt {
  workflow: Workflow;
  clientId: string;
  status: PromptStatus;
}

/** A running fake ComfyUI. */
export interface ComfyUiServer {
  baseUrl: string;
  /** Prompts received, by id, in order. */
  prompts: Map<string, ReceivedPrompt>;
  /** Bodies of POST /interrupt (`{}` when it had none). */
  interrupts: { prompt_id?: string }[];
  /** Prompt ids named by POST /queue `{ delete }`. */
  deletes: string[];
  /** Client ids of the WebSocket connections, in the order they were opened. */
  connections: string[];
  /** True: WebSocket upgrades are refused (HTTP 503), as by a proxy in front of a dying ComfyUI. */
  refuseSockets: boolean;
  /** Holds WebSocket upgrades (new connections wait, as behind a slow proxy) until the returned function is called. */
  holdSockets(): () => void;
  /** Ends the client's socket: `'close'` drops the TCP connection, `'oversized-frame'` sends a frame header of 32 MiB (the client's `ws` raises `error`). */
  dropSocket(clientId: string, how?: 'close' | 'oversized-frame'): void;
  /** From now on nothing reaches the client's socket, which stays open: a half-open path (NAT or load balancer state lost, host gone without a FIN). */
  silenceSocket(clientId: string): void;
  /** Waits until the prompt reached one of these states. */
  settled(promptId: string, states?: PromptStatus[]): Promise<PromptStatus>;
  close(): Promise<void>;
}

type Workflow = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

interface Run {
  id: string;
  number: number;
  interrupted: boolean;
  /** The node executing now, sent again to a client that reconnects. */
  node: string | undefined;
  done: Promise<void>;
  start: () => void;
}

/** Starts the server on a free port. */
export async function startComfyUiServer(options: ComfyUiServerOptions = {}): Promise<ComfyUiServer> {
  const historyDelayMs = options.historyDelayMs ?? 20;
  const sockets = new Map<string, WebSocket>();
  const rawSockets = new Map<WebSocket, Socket>();
  const history = new Map<string, unknown>();
  const running = new Map<string, Run>();
  const pending: Run[] = [];
  let fifoBusy = false;
  let held: Promise<void> | undefined;
  const settledWaiters = new Set<() => void>();
  const silenced = new Set<string>();
  const state: ComfyUiServer = {
    baseUrl: '',
    prompts: new Map(),
    interrupts: [],
    deletes: [],
    connections: [],
    refuseSockets: false,
    holdSockets() {
      let release!: () => void;
      held = new Promise<void>((r) => (release = r));
      return () => {
        held = undefined;
        release();
      };
    },
    dropSocket(clientId, how = 'close') {
      const ws = sockets.get(clientId);
      if (!ws) throw new Error(`no socket for client ${clientId}`);
      sockets.delete(clientId);
      // A frame header announcing 32 MiB: more than the connector's maxPayload, so its ws fails.
      if (how === 'oversized-frame') rawSockets.get(ws)?.write(Buffer.from([0x81, 0x7f, 0, 0, 0, 0, 0x02, 0, 0, 0]));
      else ws.terminate();
    },
    silenceSocket(clientId) {
      silenced.add(clientId);
    },
    settled: (promptId, states = ['success', 'error', 'interrupted', 'deleted']) =>
      new Promise((resolve) => {
        const check = (): void => {
          const status = state.prompts.get(promptId)?.status;
          if (status && states.includes(status)) {
            settledWaiters.delete(check);
            resolve(status);
          }
        };
        settledWaiters.add(check);
        check();
      }),
    close: async () => undefined,
  };
  const setStatus = (id: string, status: PromptStatus): void => {
    state.prompts.get(id)!.status = status;
    for (const check of [...settledWaiters]) check();
  };
  const send = (clientId: string, type: string, data: Record<string, unknown>): void => {
    const ws = silenced.has(clientId) ? undefined : sockets.get(clientId);
    if (ws && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type, data }));
  };

  function pump(): void {
    if (fifoBusy) return;
    const next = pending.shift();
    if (!next) return;
    fifoBusy = true;
    next.start();
    void next.done.then(() => {
      fifoBusy = false;
      pump();
    });
  }

  const server: Server = createServer((req, res) => {
    void body(req).then(async (text) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const json = (status: number, obj: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
      const parsed = (): Record<string, unknown> => {
        try {
          return (JSON.parse(text) as Record<string, unknown> | null) ?? {};
        } catch {
          return {};
        }
      };
      if (req.method === 'POST' && url.pathname === '/prompt') {
        const { prompt, client_id } = parsed() as { prompt?: Workflow; client_id: string };
        if (!prompt || Object.keys(prompt).length === 0) return json(400, { error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs' }, node_errors: {} });
        const id = randomUUID();
        state.prompts.set(id, { workflow: prompt, clientId: client_id, status: 'queued' });
        let start!: () => void;
        const started = new Promise<void>((r) => (start = r));
        const run: Run = { id, number: state.prompts.size, interrupted: false, node: undefined, start, done: Promise.resolve() };
        run.done = started.then(() => execute(run, prompt, client_id));
        if (options.fifo) {
          pending.push(run);
          pump();
        } else {
          run.start();
        }
        if (options.replyDelay === 'after-run') await run.done;
        else if (options.replyDelay) await pause(options.replyDelay);
        return json(200, { prompt_id: id, number: run.number, node_errors: {} });
      }
      if (req.method === 'GET' && url.pathname.startsWith('/history/')) {
        const id = decodeURIComponent(url.pathname.slice('/history/'.length));
        return json(200, history.has(id) ? { [id]: history.get(id) } : {});
      }
      if (req.method === 'GET' && url.pathname === '/queue') {
        const item = (r: Run) => [r.number, r.id, state.prompts.get(r.id)!.workflow, { client_id: state.prompts.get(r.id)!.clientId }, []];
        return json(200, { queue_running: [...running.values()].map(item), queue_pending: pending.map(item) });
      }
      if (req.method === 'POST' && url.pathname === '/queue') {
        const { delete: ids, clear } = parsed() as { delete?: string[]; clear?: boolean };
        for (const id of ids ?? []) state.deletes.push(id);
        for (let i = pending.length - 1; i >= 0; i--) {
          if (clear || ids?.includes(pending[i]!.id)) {
            setStatus(pending[i]!.id, 'deleted');
            pending.splice(i, 1);
          }
        }
        return res.writeHead(200).end();
      }
      if (req.method === 'POST' && url.pathname === '/interrupt') {
        const { prompt_id } = parsed() as { prompt_id?: string };
        state.interrupts.push(prompt_id ? { prompt_id } : {});
        // Current ComfyUI: a named prompt is interrupted only while it runs; no name interrupts whatever runs.
        for (const run of running.values()) if (!prompt_id || run.id === prompt_id) run.interrupted = true;
        return res.writeHead(200).end();
      }
      json(404, { error: 'not found' });
    });
  });

  async function execute(run: Run, workflow: Workflow, clientId: string): Promise<void> {
    const id = run.id;
    running.set(id, run);
    setStatus(id, 'running');
    const messages: [string, Record<string, unknown>][] = [];
    const emit = (type: string, data: Record<string, unknown>, inHistory = false): void => {
      const full = { ...data, prompt_id: id };
      if (inHistory) messages.push([type, { ...full }]);
      send(clientId, type, full);
    };
    let status: PromptStatus = 'success';
    const outputs: Record<string, unknown> = {};
    emit('execution_start', { timestamp: Date.now() }, true);
    emit('execution_cached', { nodes: [], timestamp: Date.now() }, true);
    nodes: for (const [node, spec] of Object.entries(workflow)) {
      if (run.interrupted) {
        emit('execution_interrupted', { node_id: node, node_type: spec.class_type, executed: [], timestamp: Date.now() }, true);
        status = 'interrupted';
        break;
      }
      run.node = node;
      emit('executing', { node, display_node: node });
      if (spec.inputs.fail === 'oom') {
        emit('execution_error', { node_id: node, node_type: spec.class_type, executed: [], exception_type: 'torch.cuda.OutOfMemoryError', exception_message: 'CUDA out of memory. Tried to allocate 4.00 GiB', traceback: [], timestamp: Date.now() }, true);
        status = 'error';
        break;
      }
      const steps = spec.class_type === 'KSampler' ? Number(spec.inputs.steps ?? 4) : 0;
      for (let value = 1; value <= steps; value++) {
        await pause(Number(spec.inputs.stepMs ?? 5));
        if (run.interrupted) {
          emit('execution_interrupted', { node_id: node, node_type: spec.class_type, executed: [], timestamp: Date.now() }, true);
          status = 'interrupted';
          break nodes;
        }
        emit('progress', { value, max: steps, node });
      }
      if (spec.class_type === 'SaveImage') {
        const images = [{ filename: `ComfyUI_${id.slice(0, 8)}_00001_.png`, subfolder: '', type: 'output' }];
        outputs[node] = { images };
        emit('executed', { node, display_node: node, output: { images } });
      }
    }
    if (status === 'success') emit('execution_success', { timestamp: Date.now() }, true);
    // execute() has returned; main.py's worker stores the history (task_done), then says the prompt ended.
    await pause(historyDelayMs);
    running.delete(id);
    run.node = undefined;
    if (options.storeHistory !== false) {
      const status_str = status === 'success' ? 'success' : 'error';
      history.set(id, { prompt: [run.number, id, workflow, { client_id: clientId }, Object.keys(outputs)], outputs: status === 'success' ? outputs : {}, status: { status_str, completed: status === 'success', messages } });
    }
    setStatus(id, status);
    send(clientId, 'executing', { node: null, prompt_id: id });
  }

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/ws') return socket.destroy();
    if (state.refuseSockets) return socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    const accept = () =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        const clientId = url.searchParams.get('clientId') ?? randomUUID();
        sockets.set(clientId, ws);
        rawSockets.set(ws, socket as Socket);
        state.connections.push(clientId);
        ws.on('close', () => {
          rawSockets.delete(ws);
          if (sockets.get(clientId) === ws) sockets.delete(clientId);
        });
        ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: running.size + pending.length } }, sid: clientId } }));
        // As server.py does for a reconnecting client whose prompt runs: the current node, without a prompt id.
        for (const run of running.values()) {
          if (run.node !== undefined && state.prompts.get(run.id)?.clientId === clientId) ws.send(JSON.stringify({ type: 'executing', data: { node: run.node } }));
        }
      });
    if (held) void held.then(accept);
    else accept();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((resolve) => {
      for (const run of running.values()) run.interrupted = true;
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => resolve(raw));
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
