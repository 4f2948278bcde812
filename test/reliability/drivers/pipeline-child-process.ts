import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TEST_REDIS_URL } from '../../helpers/redis.js';

const CHILD = fileURLToPath(new URL('./pipeline-child.ts', import.meta.url));
/** Most output kept per child, in characters (the oldest is dropped). */
const MAX_OUTPUT_CHARS = 2_000_000;

/** Settings of a reliability pipeline child (see pipeline-child.ts). */
export interface ReliabilityChildSettings {
  countsKey: string;
  downKey?: string;
  delayMs?: number;
  recorderUrl?: string;
}

/** A reliability pipeline child process the scenario controls. */
export class ReliabilityPipeline {
  readonly child: ChildProcess;
  private out = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>, settings: ReliabilityChildSettings) {
    this.child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, REDIS_URL: TEST_REDIS_URL, RELIABILITY_CHILD: JSON.stringify(settings), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      this.out += d.toString();
      if (this.out.length > MAX_OUTPUT_CHARS) this.out = this.out.slice(-MAX_OUTPUT_CHARS / 2);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get output(): string {
    return this.out;
  }

  /** True once the pipeline logged that it started. */
  get started(): boolean {
    return this.out.includes('pipeline started');
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident set size in bytes, from /proc (Linux); 0 when unknown. */
  rssBytes(): number {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
      return kb ? Number(kb) * 1024 : 0;
    } catch {
      return 0;
    }
  }

  /** How many log lines of the process match `pattern`. */
  count(pattern: RegExp): number {
    return this.out.split('\n').filter((l) => pattern.test(l)).length;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGKILL and wait for the exit. */
  async destroy(): Promise<void> {
    this.kill('SIGKILL');
    await this.exited;
  }
}
