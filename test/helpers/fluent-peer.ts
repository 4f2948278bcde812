import { FluentServer, type EventTime } from '@fluent-org/logger';
import { startTcpGate } from './tcp-gate.js';

/** A record as the peer received it. */
export interface ReceivedRecord {
  tag: string;
  /** Seconds (number) or an EventTime (seconds + nanoseconds). */
  time: number | EventTime;
  record: Record<string, unknown>;
}

/** Options of {@link startFluentPeer}. */
export interface FluentPeerOptions {
  /** Require shared-key authentication with this key. */
  sharedKey?: string;
  /** The server's `self_hostname` in the handshake. Default `fluent-peer.test`. */
  serverHostname?: string;
}

/**
 * A Fluentd stand-in for tests: the library's own forward-protocol server (acks, shared key)
 * behind a TCP proxy the test controls. Clients connect to `port` (the proxy), which can
 * withhold the server's answers (acks), cut a connection after N bytes (mid-chunk), or stop
 * listening altogether (Fluentd down) and start again on the same port.
 */
export interface FluentPeer {
  /** The port clients connect to. */
  readonly port: number;
  /** Every record received, in order (duplicates included). */
  readonly records: ReceivedRecord[];
  /** How many times each `event_id` arrived. */
  countsById(): Map<string, number>;
  /** While on, nothing the server says reaches the client (no acks; do not combine with a shared key). */
  withholdAcks(on: boolean): void;
  /** The next connection is cut after `bytes` more client bytes pass (then the proxy passes again). */
  cutAfterBytes(bytes: number): void;
  /** Connections cut by {@link cutAfterBytes} so far. */
  readonly cuts: number;
  /** Stops accepting and drops every open connection, as if Fluentd went down. */
  stop(): Promise<void>;
  /** Accepts connections again on the same port. */
  start(): Promise<void>;
  /** Stops the proxy and the server. */
  close(): Promise<void>;
}

/** Starts a {@link FluentPeer} on free local ports. */
export async function startFluentPeer(options: FluentPeerOptions = {}): Promise<FluentPeer> {
  const records: ReceivedRecord[] = [];
  const server = new (class extends FluentServer {
    protected override onEntry(tag: string, time: number | EventTime, record: Record<string, unknown>): void {
      records.push({ tag, time, record });
    }
  })({
    listenOptions: { port: 0, host: '127.0.0.1' },
    ...(options.sharedKey !== undefined
      ? { security: { serverHostname: options.serverHostname ?? 'fluent-peer.test', sharedKey: options.sharedKey, authorize: false, userDict: {} } }
      : {}),
  });
  await server.listen();
  const backendPort = server.port!;

  let withholding = false;
  let cutBudget: number | undefined;
  let cuts = 0;
  const gate = await startTcpGate(backendPort, (client, upstream, kill) => {
    client.on('data', (chunk: Buffer) => {
      if (cutBudget !== undefined && chunk.length > cutBudget) {
        upstream.write(chunk.subarray(0, cutBudget), kill);
        cutBudget = undefined;
        cuts++;
        return;
      }
      if (cutBudget !== undefined) cutBudget -= chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!withholding) client.write(chunk);
    });
  });
  const { port } = gate;

  return {
    port,
    records,
    countsById() {
      const counts = new Map<string, number>();
      for (const r of records) {
        const id = String(r.record.event_id);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      return counts;
    },
    withholdAcks: (on) => void (withholding = on),
    cutAfterBytes: (bytes) => void (cutBudget = bytes),
    get cuts() {
      return cuts;
    },
    stop: () => gate.down(),
    start: () => gate.up(),
    async close() {
      await gate.close();
      await server.close();
    },
  };
}
