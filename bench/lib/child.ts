import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Child processes for the benchmarks that need separate processes (memory, scaling, latency):
 * a TypeScript script run with `node --import tsx`, talking to the parent over the IPC channel
 * (`process.send({ type, ... })`). The parent waits for a message type, samples the child's RSS,
 * and stops it with SIGTERM (then SIGKILL after a grace period).
 */

/** A message from a child: `type` plus anything. */
export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

/** A running child. */
export interface BenchChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every message received, in order. */
  readonly messages: ChildMessage[];
  /** Resolves with the first message of `type` (already received or future); rejects on exit or timeout. */
  next(type: string, timeoutMs?: number): Promise<ChildMessage>;
  send(message: ChildMessage): void;
  /** Sends `message` and resolves with the next (new) message of `replyType`. */
  request(message: ChildMessage, replyType: string, timeoutMs?: number): Promise<ChildMessage>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** stderr collected so far (for error reports). */
  stderr(): string;
}

/** Starts `script` (path relative to `bench/`) as a child with extra env, through tsx. */
export function startChild(script: string, env: Record<string, string> = {}): BenchChild {
  const path = fileURLToPath(new URL(`../${script}`, import.meta.url));
  return startNode(['--import', 'tsx', path], env, script);
}

/**
 * Starts plain `node <args>` (no tsx) with extra env and an IPC channel: for the built code as
 * deployed (e.g. `dist/src/cli/main.js pipeline`). Such a child may never send messages; wait
 * for what it does in Redis instead. `name` is used in error messages.
 */
export function startNode(args: string[], env: Record<string, string> = {}, name = args.join(' ')): BenchChild {
  const script = name;
  const child = spawn(process.execPath, args, {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const messages: ChildMessage[] = [];
  const waiters: { type: string; resolve: (m: ChildMessage) => void }[] = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-8000);
  });
  child.on('message', (m: ChildMessage) => {
    messages.push(m);
    for (const w of waiters.filter((x) => x.type === m.type)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;

  function next(type: string, timeoutMs = 30_000): Promise<ChildMessage> {
    const have = messages.find((m) => m.type === type);
    return have ? Promise.resolve(have) : future(type, timeoutMs);
  }

  function future(type: string, timeoutMs: number): Promise<ChildMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script}: no "${type}" message within ${timeoutMs} ms\n${err}`)), timeoutMs);
      timer.unref();
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (code ${child.exitCode}) before "${type}"\n${err}`));
      });
      waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  function stop(graceMs = 10_000): Promise<void> {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      timer.unref();
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  }

  return {
    child,
    pid: child.pid!,
    messages,
    next,
    send: (m) => child.send(m),
    request(m, replyType, timeoutMs = 30_000) {
      const reply = future(replyType, timeoutMs);
      child.send(m);
      return reply;
    },
    stop,
    stderr: () => err,
  };
}

/** Resident set size of a process in bytes (Linux /proc), or NaN when unreadable. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
