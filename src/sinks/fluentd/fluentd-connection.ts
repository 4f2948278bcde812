import { EventEmitter } from 'node:events';
import type { ConnectionOptions } from 'node:tls';
import { FluentClient, FluentError, FluentSocketEvent, type FluentClientOptions } from '@fluent-org/logger';
import { TimeoutError } from '../../errors.js';

/** How to reach Fluentd; see `FluentdSinkOptions` for the meaning and defaults. */
export interface FluentdConnectionOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  security?: { clientHostname: string; sharedKey: string; username?: string; password?: string };
  ackTimeoutMs: number;
  idleTimeoutMs: number;
  eventMode: 'PackedForward' | 'CompressedPackedForward';
  maxQueuedEvents: number;
}

/**
 * One FluentClient and what we learn from its socket. The client reconnects by itself, but a
 * socket that failed authentication is closed for good, and events it still holds would be sent
 * later behind our back; so the sink throws a connection away after any failure and makes a
 * new one for the next write (see `dispose`).
 */
export interface FluentdConnection {
  readonly client: FluentClient;
  /** The last socket error, for health and retry reasons. */
  readonly lastError: Error | undefined;
  /** True once the handshake (and shared-key auth) is done and the socket takes data. */
  writable(): boolean;
  /** Resolves when writable; rejects with the socket error, a timeout, or the abort reason. */
  waitWritable(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Calls `listener` on a socket error or close (both end every ack in flight). Returns an unsubscribe. */
  onFailure(listener: (err: Error) => void): () => void;
  /** Drops queued events and pending acks and closes the socket, waiting at most `timeoutMs`. */
  dispose(timeoutMs: number): Promise<void>;
}

/** Opens a {@link FluentdConnection} (the client connects in the background at once). */
export function openFluentdConnection(o: FluentdConnectionOptions): FluentdConnection {
  const options: FluentClientOptions = {
    eventMode: o.eventMode,
    ack: { ackTimeout: o.ackTimeoutMs },
    milliseconds: true,
    socket: {
      host: o.host,
      port: o.port,
      timeout: o.idleTimeoutMs,
      reconnect: { delay: 200, maxDelay: 5000 },
      ...(o.tls ? { tls: o.tls } : {}),
    },
    ...(o.security ? { security: o.security } : {}),
    // Bounded: the sink sends one batch at a time, so this never drops in normal operation.
    sendQueueMaxLimit: { length: o.maxQueuedEvents },
  };
  const client = new FluentClient(null, options);
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let lastError: Error | undefined;
  client.socketOn(FluentSocketEvent.ERROR, (err: Error) => {
    lastError = err;
    events.emit('failure', err);
  });
  // A socket that failed is destroyed, and its 'close' comes a moment later; until then the
  // client's disconnect() would wait forever on socket.end(), so dispose() waits for it.
  let socketOpen = false;
  client.socketOn(FluentSocketEvent.CONNECTED, () => void (socketOpen = true));
  client.socketOn(FluentSocketEvent.CLOSE, () => {
    socketOpen = false;
    events.emit('closed');
    events.emit('failure', lastError ?? new Error('connection to Fluentd closed'));
  });
  client.socketOn(FluentSocketEvent.WRITABLE, () => events.emit('writable'));
  let disposed: Promise<void> | undefined;

  return {
    client,
    get lastError() {
      return lastError;
    },
    writable: () => client.writable,
    waitWritable(timeoutMs, signal) {
      if (client.writable) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const done = (err?: unknown) => {
          clearTimeout(timer);
          events.off('writable', onWritable);
          events.off('failure', done);
          signal?.removeEventListener('abort', onAbort);
          if (err === undefined) resolve();
          else reject(err instanceof Error ? err : new Error(String(err)));
        };
        const onWritable = () => done();
        const onAbort = () => done(signal?.reason ?? new Error('aborted'));
        const timer = setTimeout(
          () => done(lastError ?? new TimeoutError(`connecting to Fluentd at ${o.host}:${o.port}`, timeoutMs)),
          timeoutMs,
        );
        timer.unref();
        events.on('writable', onWritable);
        events.on('failure', done);
        signal?.addEventListener('abort', onAbort, { once: true });
        if (signal?.aborted) onAbort();
      });
    },
    onFailure(listener) {
      events.on('failure', listener);
      return () => events.off('failure', listener);
    },
    dispose(timeoutMs) {
      disposed ??= new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        const closed =
          lastError !== undefined && socketOpen ? new Promise((r) => events.once('closed', r)) : Promise.resolve();
        // shutdown() rejects every queued event and pending ack, then ends the socket.
        closed.then(() => client.shutdown()).then(
          () => {
            clearTimeout(timer);
            resolve();
          },
          () => {
            clearTimeout(timer);
            resolve();
          },
        );
      });
      return disposed;
    },
  };
}

/** A retry reason an operator can act on. */
export function describeFluentdError(err: unknown, where: string): string {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof FluentError.SharedKeyMismatchError || /shared key mismatch/i.test(message)) {
    return `Fluentd at ${where} rejected the shared key (${message}): set FLUENTD_SHARED_KEY to the key in Fluentd's <security> section`;
  }
  if (err instanceof FluentError.AuthError) {
    return `Fluentd at ${where} refused authentication (${message}): check FLUENTD_SHARED_KEY, FLUENTD_USERNAME and FLUENTD_PASSWORD`;
  }
  if (err instanceof FluentError.AckTimeoutError) {
    return `Fluentd at ${where} did not acknowledge the chunk in time (${message}); events will be resent`;
  }
  const code = (err as { code?: string } | undefined)?.code;
  return `cannot deliver to Fluentd at ${where}: ${code && !message.includes(code) ? `${code} ` : ''}${message}`;
}
