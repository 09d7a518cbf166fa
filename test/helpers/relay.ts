// A TCP relay of our own on loopback in front of the local cluster's API server, so tests can
// break the wire between the client and the server the ways networks break: cut (both ends
// reset), refused (nothing answers any more), or black-holed (connections stay open, nothing
// gets through: a half-open connection after a VPN drop or a suspended laptop), or slow (the
// server's bytes to the client at a set rate, with TCP's own backpressure behind it).
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { kubectl } from './cluster.ts';

export interface Relay {
  port: number;
  /** A kubeconfig with the admin's credentials whose server is this relay. */
  kubeconfig: string;
  /** Resets every connection; new ones are still relayed. */
  cut(): void;
  /** Resets every connection and refuses new ones. */
  refuse(): void;
  /** Keeps every connection open but forwards nothing more, either way. */
  blackhole(): void;
  /** From now on, the server's bytes reach the client at about BYTESPERSECOND (0: full speed again). */
  throttle(bytesPerSecond: number): void;
  close(): void;
}

/** Starts a relay to the API server and writes a kubeconfig for it into DIR. */
export async function startRelay(dir: string): Promise<Relay> {
  const server = new URL(
    kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']).trim(),
  );
  const sockets = new Set<Socket>();
  let holed = false;
  let rate = 0;
  const relay: Server = createServer((client) => {
    const upstream = connect(Number(server.port || 443), server.hostname);
    sockets.add(client).add(upstream);
    const forward = (from: Socket, to: Socket, slowed: boolean) =>
      from.on('data', (chunk: Buffer) => {
        if (holed) return;
        to.write(chunk);
        // Not reading on for a while is what makes the link slow: the kernel's buffers fill and
        // TCP's window closes towards the server, as behind a slow uplink.
        if (slowed && rate > 0) {
          from.pause();
          setTimeout(() => from.resume(), (chunk.length * 1000) / rate);
        }
      });
    forward(client, upstream, false);
    forward(upstream, client, true);
    const drop = () => {
      if (holed) return;
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', drop);
    }
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()));
  const port = (relay.address() as { port: number }).port;
  const raw = JSON.parse(kubectl(['config', 'view', '--minify', '--raw', '-o', 'json'])) as {
    clusters: Array<{ cluster: { server: string } }>;
  };
  // Same CA and credentials, only the address changes; TLS still checks the name (127.0.0.1 is in the certificate).
  raw.clusters[0]!.cluster.server = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, `relay-${port}.kubeconfig`);
  writeFileSync(kubeconfig, JSON.stringify(raw), { mode: 0o600 });
  const resetAll = () => {
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
  };
  return {
    port,
    kubeconfig,
    cut: resetAll,
    refuse() {
      relay.close();
      resetAll();
    },
    blackhole() {
      holed = true;
    },
    throttle(bytesPerSecond: number) {
      rate = bytesPerSecond;
    },
    close() {
      holed = false;
      relay.close();
      resetAll();
    },
  };
}
