import net from 'node:net';

/**
 * A TCP pass-through in front of a local peer that can be shut like a backend going down:
 * `down()` stops listening and drops every open connection (clients get ECONNREFUSED),
 * `up()` listens again on the same port. By default bytes are piped both ways; a `relay`
 * takes over the data flow of each connection (the Fluentd peer uses one to withhold acks
 * and cut connections mid-chunk).
 */
export interface TcpGate {
  readonly port: number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Wires one connection: `kill` drops both sides. */
export type TcpRelay = (client: net.Socket, upstream: net.Socket, kill: () => void) => void;

const pipeBoth: TcpRelay = (client, upstream) => {
  client.pipe(upstream);
  upstream.pipe(client);
};

/** Starts a gate on a free port of 127.0.0.1 forwarding to `targetPort`. */
export async function startTcpGate(targetPort: number, relay: TcpRelay = pipeBoth): Promise<TcpGate> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ port: targetPort, host: '127.0.0.1' });
    open.add(client).add(upstream);
    const kill = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    relay(client, upstream, kill);
    client.on('close', kill).on('error', kill);
    upstream.on('close', kill).on('error', kill);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1' }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of open) s.destroy();
      open.clear();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  return { port, down, up: () => listen(port), close: down };
}
