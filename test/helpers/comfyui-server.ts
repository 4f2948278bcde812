import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A local server speaking ComfyUI's protocol: POST /prompt (`{ prompt, client_id }` →
 * `{ prompt_id, number, node_errors }`), the WebSocket /ws?clientId= with `status`,
 * `execution_start`, `execution_cached`, `executing`, `progress` {value,max}, `executed`,
 * `execution_success` / `execution_error` / `execution_interrupted`, GET /history/<id>, and
 * POST /interrupt. A workflow node's `inputs` steer it: a KSampler's `steps` sets the progress
 * count, `fail: "oom"` raises a CUDA OOM, `stepMs` sets the time per step.
 */

/** A running fake ComfyUI. */
export interface ComfyUiServer {
  baseUrl: string;
  /** Prompts received, by id. */
  prompts: Map<string, { workflow: Record<string, { class_type: string; inputs: Record<string, unknown> }>; clientId: string }>;
  interrupts: number;
  close(): Promise<void>;
}

type Workflow = Record<string, { class_type: string; inputs: Record<string, unknown> }>;

/** Starts the server on a free port. */
export async function startComfyUiServer(): Promise<ComfyUiServer> {
  const sockets = new Map<string, WebSocket>();
  const history = new Map<string, unknown>();
  const running = new Map<string, { interrupted: boolean }>();
  const state: ComfyUiServer = { baseUrl: '', prompts: new Map(), interrupts: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    void body(req).then((text) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const json = (status: number, obj: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(obj));
      if (req.method === 'POST' && url.pathname === '/prompt') {
        const { prompt, client_id } = JSON.parse(text) as { prompt: Workflow; client_id: string };
        if (!prompt || Object.keys(prompt).length === 0) return json(400, { error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs' }, node_errors: {} });
        const id = randomUUID();
        state.prompts.set(id, { workflow: prompt, clientId: client_id });
        json(200, { prompt_id: id, number: state.prompts.size, node_errors: {} });
        const flag = { interrupted: false };
        running.set(id, flag);
        void execute(id, prompt, sockets.get(client_id), flag, history);
        return;
      }
      if (req.method === 'GET' && url.pathname.startsWith('/history/')) return json(200, history.has(url.pathname.slice(9)) ? { [url.pathname.slice(9)]: history.get(url.pathname.slice(9)) } : {});
      if (req.method === 'POST' && url.pathname === '/interrupt') {
        state.interrupts++;
        for (const flag of running.values()) flag.interrupted = true;
        return json(200, {});
      }
      json(404, { error: 'not found' });
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/ws') return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      const clientId = url.searchParams.get('clientId') ?? randomUUID();
      sockets.set(clientId, ws);
      ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: clientId } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((resolve) => {
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

async function execute(id: string, workflow: Workflow, ws: WebSocket | undefined, flag: { interrupted: boolean }, history: Map<string, unknown>): Promise<void> {
  const send = (type: string, data: Record<string, unknown>) => ws?.send(JSON.stringify({ type, data: { ...data, prompt_id: id } }));
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await pause(5);
  send('execution_start', { timestamp: Date.now() });
  send('execution_cached', { nodes: [], timestamp: Date.now() });
  const outputs: Record<string, unknown> = {};
  for (const [node, spec] of Object.entries(workflow)) {
    send('executing', { node, display_node: node });
    if (spec.inputs.fail === 'oom') {
      send('execution_error', { node_id: node, node_type: spec.class_type, exception_type: 'torch.cuda.OutOfMemoryError', exception_message: 'CUDA out of memory. Tried to allocate 4.00 GiB', traceback: [] });
      return;
    }
    const steps = spec.class_type === 'KSampler' ? Number(spec.inputs.steps ?? 4) : 0;
    for (let value = 1; value <= steps; value++) {
      await pause(Number(spec.inputs.stepMs ?? 5));
      if (flag.interrupted) {
        send('execution_interrupted', { node_id: node, node_type: spec.class_type, executed: [] });
        return;
      }
      send('progress', { value, max: steps, node });
    }
    if (spec.class_type === 'SaveImage') {
      const images = [{ filename: `ComfyUI_${id.slice(0, 8)}_00001_.png`, subfolder: '', type: 'output' }];
      outputs[node] = { images };
      send('executed', { node, display_node: node, output: { images } });
    }
  }
  history.set(id, { prompt: [0, id, workflow, {}, Object.keys(outputs)], outputs, status: { status_str: 'success', completed: true, messages: [] } });
  send('executing', { node: null });
  send('execution_success', { timestamp: Date.now() });
}
