import type { JobscopeEvent } from '../../events/index.js';
import type { Sink, SinkHealth, SinkWriteResult } from '../sink.js';

/**
 * A sink that confirms every event at once and keeps nothing: for tests, for benchmarks of
 * the pipeline itself, and to check a deployment end to end without a backend.
 */

/** Options of {@link createNullSink}. */
export interface NullSinkOptions {
  /** The sink (and consumer group) name. Default `null`. */
  name?: string;
  /** Largest batch per write. Default: the pipeline's batch size. */
  maxBatchSize?: number;
}

/** The null sink, with a count of what it confirmed. */
export interface NullSink extends Sink {
  /** Events confirmed so far. */
  readonly written: number;
}

/** Creates a {@link NullSink}. */
export function createNullSink(options: NullSinkOptions = {}): NullSink {
  let written = 0;
  return {
    name: options.name ?? 'null',
    ...(options.maxBatchSize !== undefined ? { maxBatchSize: options.maxBatchSize } : {}),
    get written() {
      return written;
    },
    async write(events: readonly JobscopeEvent[]): Promise<SinkWriteResult> {
      written += events.length;
      return { status: 'ok' };
    },
    async health(): Promise<SinkHealth> {
      return { ok: true, detail: 'null sink: confirms and discards' };
    },
    async close(): Promise<void> {},
  };
}
