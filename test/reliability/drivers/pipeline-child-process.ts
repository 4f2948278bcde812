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
  private collections = 0;
  /** Memory reported after each collection (see memoryAfterGc), by request number. */
  private readonly collected = new Map<number, NodeJS.MemoryUsage>();
  private stdoutRest = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>, settings: ReliabilityChildSettings) {
    // --expose-gc: memoryAfterGc() has the child collect its garbage before memory is read.
    this.child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD], {
      env: { ...process.env, REDIS_URL: TEST_REDIS_URL, RELIABILITY_CHILD: JSON.stringify(settings), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      this.out += d.toString();
      if (this.out.length > MAX_OUTPUT_CHARS) this.out = this.out.slice(-MAX_OUTPUT_CHARS / 2);
    };
    this.child.stdout!.on('data', (d: Buffer) => {
      keep(d);
      this.readCollected(d.toString());
    });
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

  /**
   * The child's memory right after a full garbage collection (SIGUSR2, see pipeline-child.ts):
   * `live` is the JS heap in use plus memory outside it (Buffers), what a leak makes grow;
   * `rss` is the resident set, which also holds the heap space V8 keeps reserved (it grows
   * its young generation under load and gives it back late). Throws when the child has not
   * started (SIGUSR2 would kill it), has died, or does not answer.
   */
  async memoryAfterGc(timeoutMs = 10_000): Promise<{ live: number; rss: number }> {
    if (!this.started || !this.alive) throw new Error(`the pipeline child is ${this.alive ? 'not started yet' : 'dead'}`);
    const n = ++this.collections;
    this.kill('SIGUSR2');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.collected.get(n);
      if (m) return { live: m.heapUsed + m.external, rss: m.rss };
      if (Date.now() > deadline || !this.alive) throw new Error(`the pipeline child did not report its memory within ${timeoutMs} ms (alive: ${this.alive})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Picks the child's "collected" lines out of its stdout (stderr never splits them). */
  private readCollected(text: string): void {
    const lines = (this.stdoutRest + text).split('\n');
    this.stdoutRest = lines.pop()!.slice(-65_536);
    for (const line of lines) {
      const m = /^reliability-child: collected (\d+) (\{.*\})$/.exec(line);
      if (m) this.collected.set(Number(m[1]), JSON.parse(m[2]!) as NodeJS.MemoryUsage);
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
