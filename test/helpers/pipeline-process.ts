import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_REDIS_URL } from './redis.js';

const CHILD = fileURLToPath(new URL('./pipeline-child.ts', import.meta.url));

/** A pipeline child process (test/helpers/pipeline-child.ts) the test controls. */
export class PipelineProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>, settings: { countsKey: string; delayMs?: number; down?: boolean }) {
    this.child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: { ...process.env, REDIS_URL: TEST_REDIS_URL, PIPELINE_CHILD: JSON.stringify(settings), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** True once the pipeline logged that it started. */
  get started(): boolean {
    return this.output.includes('pipeline started');
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
