import type { JobscopeEvent } from '../events/index.js';

/**
 * The Sink contract. A sink is a backend adapter: it writes a batch of events and says which
 * ones its backend confirmed. It knows nothing of Redis streams, consumer groups or retries:
 * the pipeline (src/pipeline) decides when to read, retry, acknowledge and dead-letter.
 */

/** An event the backend refused for good (it will never accept it): dead-lettered with the reason. */
export interface SinkRejection {
  eventId: string;
  reason: string;
}

/** What a batch write achieved. */
export type SinkWriteResult =
  | {
      /** Every event of the batch is confirmed by the backend, except those in `rejected`. */
      status: 'ok';
      rejected?: SinkRejection[];
    }
  | {
      /**
       * The backend did not confirm (some of) the batch, for a reason that may pass
       * (down, 429/503, timeout). Events not in `confirmedIds` or `rejected` are retried later.
       */
      status: 'retry';
      reason: string;
      /** The backend asked to wait at least this long (Retry-After, rate limits), in ms. */
      retryAfterMs?: number;
      confirmedIds?: string[];
      rejected?: SinkRejection[];
    };

/** Result of a sink's health check. */
export interface SinkHealth {
  ok: boolean;
  /** What is wrong, or where the sink writes, in words. */
  detail?: string;
}

/** A backend adapter. See the file comment. */
export interface Sink {
  /** Short lower-case name, e.g. `fluentd`; the consumer group is named after it. */
  readonly name: string;
  /** Largest batch this sink wants in one `write`. Default: the pipeline's batch size. */
  readonly maxBatchSize?: number;
  /**
   * Writes a batch. Resolves with what the backend confirmed. A throw counts as
   * `{ status: 'retry', reason: err.message }` for the whole batch. `signal` aborts on shutdown
   * deadline: the sink should stop waiting and resolve or reject promptly.
   */
  write(events: readonly JobscopeEvent[], signal: AbortSignal): Promise<SinkWriteResult>;
  /** Cheap reachability check of the backend. */
  health(): Promise<SinkHealth>;
  /** Releases connections. Called once, after the last write settled. */
  close(): Promise<void>;
}
