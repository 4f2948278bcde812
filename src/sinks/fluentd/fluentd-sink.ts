import { hostname } from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import { FluentError } from '@fluent-org/logger';
import type { JobscopeEvent } from '../../events/index.js';
import { ClosedError, ConfigError, TimeoutError } from '../../errors.js';
import type { Sink, SinkRejection, SinkWriteResult } from '../sink.js';
import { describeFluentdError, openFluentdConnection, type FluentdConnection } from './fluentd-connection.js';
import { fluentdTag, toFluentdRecord } from './fluentd-record.js';

/** Options of {@link createFluentdSink}. */
export interface FluentdSinkOptions {
  /** Fluentd (or Fluent Bit) forward input host. */
  host: string;
  /** Forward input port. Default 24224. */
  port?: number;
  /** TLS options (e.g. `{ ca }`); absent = plain TCP. Default absent. */
  tls?: ConnectionOptions;
  /** Shared key of Fluentd's `<security>` section; absent = no authentication. */
  sharedKey?: string;
  /** Our hostname in the shared-key handshake; must differ from Fluentd's `self_hostname`. Default `os.hostname()`. */
  clientHostname?: string;
  /** User for Fluentd's `<user>` authentication (with `sharedKey`). */
  username?: string;
  /** Password for `username`. */
  password?: string;
  /** Tag prefix: records are tagged `<prefix>.<serviceType>.<eventType>`. Default `jobscope`. */
  tagPrefix?: string;
  /** How long to wait for Fluentd's ack of a chunk, in ms; past it the chunk's events are retried. Default 10,000. */
  ackTimeoutMs?: number;
  /** How long a write waits for the connection (and handshake), in ms. Default 5,000. */
  connectTimeoutMs?: number;
  /** Idle time after which the socket is closed (reopened on the next write), in ms. Default 60,000. */
  idleTimeoutMs?: number;
  /** `CompressedPackedForward` gzips chunks (less bandwidth, more CPU). Default `PackedForward`. */
  eventMode?: 'PackedForward' | 'CompressedPackedForward';
  /** Largest batch per write (one ack round trip each). Default 1,000. */
  maxBatchSize?: number;
  /** How long `close()` waits for the socket to end, in ms. Default 2,000. */
  closeTimeoutMs?: number;
}

/** What one batch write learnt: confirmed ids, refused events, and the first failure if any. */
interface BatchOutcome {
  confirmed: string[];
  rejected: SinkRejection[];
  failure: unknown;
}

/**
 * Creates the `fluentd` sink: each event becomes a flat record (see `toFluentdRecord`) sent over
 * the forward protocol with acks on, tagged `<prefix>.<serviceType>.<eventType>`, with the event
 * time as the Fluentd event time (millisecond EventTime). An event is confirmed only when Fluentd
 * acknowledged the chunk that carried it; on an ack timeout, a cut connection, a refused
 * connection or failed authentication the write resolves `retry` for the unconfirmed events
 * (some of them may have reached Fluentd: duplicates are possible, each record has `event_id`).
 */
export function createFluentdSink(options: FluentdSinkOptions): Sink {
  const port = options.port ?? 24224;
  const where = `${options.host}:${port}`;
  const tagPrefix = options.tagPrefix ?? 'jobscope';
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const maxBatchSize = options.maxBatchSize ?? 1_000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 2_000;
  if (!options.host) throw new ConfigError('FLUENTD_HOST', 'must be set to use the fluentd sink', 'missing');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(tagPrefix)) {
    throw new ConfigError('FLUENTD_TAG_PREFIX', 'must be 1-64 characters: letters, digits, ".", "_" or "-"');
  }
  let connection: FluentdConnection | undefined;
  let closing: Promise<void> | undefined;

  const open = (): FluentdConnection =>
    (connection ??= openFluentdConnection({
      host: options.host,
      port,
      ackTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      eventMode: options.eventMode ?? 'PackedForward',
      maxQueuedEvents: maxBatchSize * 2,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.sharedKey !== undefined
        ? {
            security: {
              clientHostname: options.clientHostname ?? hostname(),
              sharedKey: options.sharedKey,
              ...(options.username !== undefined ? { username: options.username, password: options.password ?? '' } : {}),
            },
          }
        : {}),
    }));

  /** Throws a connection away: events it still holds must not be sent later behind our back. */
  const reset = async (conn: FluentdConnection): Promise<void> => {
    if (connection === conn) connection = undefined;
    await conn.dispose(1_000);
  };

  const send = async (conn: FluentdConnection, events: readonly JobscopeEvent[], signal: AbortSignal): Promise<BatchOutcome> => {
    const out: BatchOutcome = { confirmed: [], rejected: [], failure: undefined };
    const emits = events.map((event) =>
      conn.client.emit(fluentdTag(tagPrefix, event), toFluentdRecord(event), event.time).then(
        () => void out.confirmed.push(event.id),
        (err: unknown) => {
          if (err instanceof FluentError.DataTypeError) out.rejected.push({ eventId: event.id, reason: `Fluentd record refused: ${err.message}` });
          else out.failure ??= err;
        },
      ),
    );
    const stopped = await settleOrFail(Promise.all(emits), conn, ackTimeoutMs + 1_000, signal);
    out.failure = stopped ?? out.failure;
    return { confirmed: [...out.confirmed], rejected: [...out.rejected], failure: out.failure };
  };

  return {
    name: 'fluentd',
    maxBatchSize,
    async write(events, signal): Promise<SinkWriteResult> {
      if (closing) throw new ClosedError('fluentd sink');
      if (events.length === 0) return { status: 'ok' };
      const conn = open();
      try {
        await conn.waitWritable(connectTimeoutMs, signal);
      } catch (err) {
        await reset(conn);
        return { status: 'retry', reason: describeFluentdError(err, where) };
      }
      const { confirmed, rejected, failure } = await send(conn, events, signal);
      if (confirmed.length + rejected.length === events.length) return rejected.length > 0 ? { status: 'ok', rejected } : { status: 'ok' };
      await reset(conn);
      return {
        status: 'retry',
        reason: describeFluentdError(failure ?? new Error('chunk not acknowledged'), where),
        confirmedIds: confirmed,
        ...(rejected.length > 0 ? { rejected } : {}),
      };
    },
    async health() {
      if (closing) return { ok: false, detail: 'fluentd sink is closed' };
      const conn = open();
      try {
        await conn.waitWritable(Math.min(connectTimeoutMs, 2_000));
        return { ok: true, detail: `connected to Fluentd at ${where}${options.tls ? ' (TLS)' : ''}` };
      } catch (err) {
        await reset(conn);
        return { ok: false, detail: describeFluentdError(err, where) };
      }
    },
    close() {
      closing ??= (async () => {
        const conn = connection;
        connection = undefined;
        if (conn) await conn.dispose(closeTimeoutMs);
      })();
      return closing;
    },
  };
}

/**
 * Waits for `all` to settle, but stops early on a socket failure (which ends every ack in
 * flight), after `timeoutMs`, or on abort. Returns why it stopped early, or undefined.
 */
function settleOrFail(all: Promise<unknown>, conn: FluentdConnection, timeoutMs: number, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    const finish = (why?: unknown) => {
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onAbort = () => finish(signal.reason ?? new Error('write aborted'));
    const timer = setTimeout(() => finish(new TimeoutError('Fluentd ack', timeoutMs)), timeoutMs);
    timer.unref();
    const unsubscribe = conn.onFailure((err) => finish(err));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    all.then(
      () => finish(),
      (err: unknown) => finish(err),
    );
  });
}
