import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { startApiServer, type ApiServer } from '../../../src/api/api-server.js';
import type { CliIo } from '../../../src/cli/commands.js';
import type { JobscopeEvent } from '../../../src/events/index.js';
import { createStatusSink, type StatusSink } from '../../../src/sinks/status/index.js';
import { cleanupPrefix, testPrefix, testRedis } from '../../helpers/redis.js';

/** A writable that keeps what was written. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

/** A real API on a free port with a test prefix, a status sink to seed it, and a CLI runner. */
export interface CliFixture {
  redis: Redis;
  prefix: string;
  api: ApiServer;
  sink: StatusSink;
  token: string;
  /** Writes events through the status sink (as the pipeline would). */
  seed(...events: JobscopeEvent[]): Promise<void>;
  /** Runs a command module's `run` with captured output and the API env set. */
  run(mod: { run(args: string[], io: CliIo): Promise<number> }, args: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The io of a run still in progress (for watch/tail), to read its output so far. */
  start(mod: { run(args: string[], io: CliIo): Promise<number> }, args: string[]): { out: Capture; err: Capture; done: Promise<number> };
  close(): Promise<void>;
}

/** Starts a {@link CliFixture}. */
export async function startCliFixture(name: string): Promise<CliFixture> {
  const redis = testRedis();
  const prefix = testPrefix(name);
  const token = 'test-token-cli';
  const api = await startApiServer({ redis, prefix, auth: { token }, port: 0, host: '127.0.0.1', stuck: { autoStart: false }, sse: { blockMs: 200 } });
  const sink = createStatusSink({ redis, prefix, pruneIntervalMs: 0 });
  const env = { JOBSCOPE_API_URL: api.url, JOBSCOPE_API_TOKEN: token };
  const start: CliFixture['start'] = (mod, args) => {
    const out = new Capture();
    const err = new Capture();
    return { out, err, done: mod.run(args, { stdout: out, stderr: err, env }) };
  };
  return {
    redis,
    prefix,
    api,
    sink,
    token,
    async seed(...events) {
      const result = await sink.write(events, new AbortController().signal);
      if (result.status !== 'ok' || result.rejected?.length) throw new Error(`seed failed: ${JSON.stringify(result)}`);
    },
    async run(mod, args, extraEnv = {}) {
      const out = new Capture();
      const err = new Capture();
      const code = await mod.run(args, { stdout: out, stderr: err, env: { ...env, ...extraEnv } });
      return { code, stdout: out.text, stderr: err.text };
    },
    start,
    async close() {
      await api.close();
      await sink.close();
      await cleanupPrefix(redis, prefix);
      redis.disconnect();
    },
  };
}
