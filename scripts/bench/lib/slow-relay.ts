// A TCP relay on loopback in front of the local cluster's API server that behaves like a slow
// link (a VPN or a bastion between a user and the cluster): each direction is one shared link of
// MBIT megabits per second with a small queue, so TCP's own flow control sees a bottleneck
// instead of an endless buffer. A kubeconfig pointing at it comes with it.
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { kubectl } from './cluster.ts';

export interface SlowRelay {
  kubeconfig: string;
  close(): void;
}

/** Link queue: how many bytes may wait for the wire before the sender is paused. */
const QUEUE_BYTES = 256 * 1024;

/** One direction of the link: chunks leave no faster than BYTES_PER_MS, strictly in order. */
class Link {
  private freeAt = 0;
  private queued = 0;
  private readonly waiting: Array<() => void> = [];
  /** Chunks on the wire, oldest first. One timer drains them: separate timers could reorder. */
  private readonly wire: Array<{ at: number; chunk: Buffer | undefined; to: Socket }> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly bytesPerMs: number;
  private readonly delayMs: number;

  constructor(bytesPerMs: number, delayMs: number) {
    this.bytesPerMs = bytesPerMs;
    this.delayMs = delayMs;
  }

  /** Sends CHUNK from FROM to TO when the link has room; pauses FROM while the queue is full. */
  send(chunk: Buffer, from: Socket, to: Socket): void {
    const now = performance.now();
    this.freeAt = Math.max(now, this.freeAt) + chunk.length / this.bytesPerMs;
    this.queued += chunk.length;
    if (this.queued > QUEUE_BYTES) {
      from.pause();
      this.waiting.push(() => from.resume());
    }
    this.wire.push({ at: this.freeAt + this.delayMs, chunk, to });
    this.drain();
  }

  /** Ends TO once everything sent to it before has left the link (a FIN travels in order too). */
  end(to: Socket): void {
    this.wire.push({ at: Math.max(performance.now(), this.freeAt) + this.delayMs, chunk: undefined, to });
    this.drain();
  }

  private drain(): void {
    if (this.timer) return;
    const now = performance.now();
    while (this.wire.length > 0 && this.wire[0]!.at <= now) {
      const { chunk, to } = this.wire.shift()!;
      if (to.destroyed) continue;
      if (chunk === undefined) to.end();
      else {
        to.write(chunk);
        this.queued -= chunk.length;
      }
    }
    if (this.queued <= QUEUE_BYTES) for (const wake of this.waiting.splice(0)) wake();
    if (this.wire.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, Math.max(1, this.wire[0]!.at - now));
    }
  }
}

/** Starts the relay and writes a kubeconfig for it into DIR. */
export async function startSlowRelay(dir: string, mbit: number, delayMs = 5): Promise<SlowRelay> {
  const raw = JSON.parse(await kubectl(['config', 'view', '--minify', '--raw', '-o', 'json'])) as {
    clusters: Array<{ cluster: { server: string } }>;
  };
  const upstreamUrl = new URL(raw.clusters[0]!.cluster.server);
  const bytesPerMs = (mbit * 1e6) / 8 / 1000;
  const up = new Link(bytesPerMs, delayMs);
  const down = new Link(bytesPerMs, delayMs);
  const sockets = new Set<Socket>();
  const relay = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ port: Number(upstreamUrl.port || 443), host: upstreamUrl.hostname, allowHalfOpen: true });
    sockets.add(client).add(upstream);
    client.on('data', (c: Buffer) => up.send(c, client, upstream));
    upstream.on('data', (c: Buffer) => down.send(c, upstream, client));
    // A side that finishes sending is ended on the other side after its last bytes crossed the
    // link; an error resets both at once.
    client.on('end', () => up.end(upstream));
    upstream.on('end', () => down.end(client));
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', drop);
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()));
  const port = (relay.address() as { port: number }).port;
  // Same CA and credentials; only the address changes (127.0.0.1 is in the server's certificate).
  raw.clusters[0]!.cluster.server = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, `slow-relay-${port}.kubeconfig`);
  writeFileSync(kubeconfig, JSON.stringify(raw), { mode: 0o600 });
  return {
    kubeconfig,
    close() {
      relay.close();
      for (const s of sockets) s.destroy();
    },
  };
}
