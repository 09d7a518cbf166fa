// The exec stream against the real API server and kubelet: binary integrity, backpressure with a
// slow sink, and a lost connection (cut by a TCP relay of ours between client and API server).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { ensureCluster, createNamespace, deleteNamespace, KUBECONFIG } from '../helpers/cluster.ts';
import { DEBUG_IMAGE } from '../helpers/plugin.ts';
import { resolveConfig } from '../../src/kube/config.ts';
import { createKubeClient } from '../../src/kube/client.ts';
import { DebugSession } from '../../src/kube/session.ts';
import { ExitCode, UserError } from '../../src/errors.ts';

const skip = ensureCluster();
const ns = `e2e-stream-${process.pid}`;
let session: DebugSession;
let nodeName = '';

async function nodeOf(): Promise<string> {
  const client = await createKubeClient(await resolveConfig({ kubeconfig: KUBECONFIG }));
  return (await client.listNodes())[0]!.metadata!.name!;
}

async function openSession(kubeconfig: string): Promise<DebugSession> {
  const client = await createKubeClient(await resolveConfig({ kubeconfig, namespace: ns }));
  return DebugSession.open(client, {
    namespace: ns,
    nodeName,
    image: DEBUG_IMAGE,
    privileged: false,
    target: undefined,
    version: 'test',
    podTimeoutMs: 60_000,
  });
}

/** A sink that collects a hash and the byte count. */
function hashingSink(delayMs = 0): Writable & { digest(): string; bytes: number } {
  const h = createHash('sha256');
  const w = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _e, cb) {
      h.update(chunk);
      w.bytes += chunk.length;
      if (delayMs > 0) setTimeout(cb, delayMs);
      else cb();
    },
  }) as Writable & { digest(): string; bytes: number };
  w.bytes = 0;
  w.digest = () => h.digest('hex');
  return w;
}

function textSink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk: Buffer, _e, cb) {
      w.text += chunk.toString();
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

describe('exec stream', { skip, timeout: 600_000 }, () => {
  before(async () => {
    await createNamespace(ns);
    nodeName = await nodeOf();
    session = await openSession(KUBECONFIG);
  });
  after(async () => {
    await session?.close();
    await deleteNamespace(ns);
  });

  test('a multi-MiB binary stream arrives byte for byte (sha256 matches the node side)', async () => {
    const out = hashingSink();
    const err = textSink();
    const size = 16 * 1024 * 1024;
    const r = await session.exec(
      ['sh', '-c', `head -c ${size} /dev/urandom > /tmp/blob && sha256sum /tmp/blob >&2 && cat /tmp/blob`],
      { stdout: out, stderr: err },
    );
    await new Promise<void>((resolve) => out.end(() => resolve()));
    assert.equal(r.exitCode, 0, err.text);
    assert.equal(out.bytes, size);
    assert.equal(out.digest(), err.text.split(' ')[0]);
  });

  test('a slow sink holds memory bounded: the socket is paused, not buffered', async () => {
    const size = 32 * 1024 * 1024;
    const out = hashingSink(2);
    // What sits queued in front of the sink is what a missing pause would pile up.
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, out.writableLength)), 10);
    // The command lingers after writing: Kubernetes drops stdout still in flight when the command
    // exits (kubernetes#124571), and this test is about memory, not about that (capture handles it
    // with the agent's ack).
    let r: Awaited<ReturnType<typeof session.exec>>;
    try {
      r = await session.exec(['sh', '-c', `head -c ${size} /dev/zero; sleep 3`], {
        stdout: out,
        stderr: textSink(),
      });
      await new Promise<void>((resolve) => out.end(() => resolve()));
    } finally {
      // Also when the exec fails: a live interval would keep this file's process from ever ending.
      clearInterval(sampler);
    }
    assert.equal(r.exitCode, 0);
    assert.equal(out.bytes, size);
    // Without backpressure the stream piles up in front of the sink (most of its 32 MiB); paused,
    // only what was already in flight when the socket paused.
    assert.ok(peak < 4 * 1024 * 1024, `peak queued ${(peak / 1048576).toFixed(1)} MiB`);
  });

  test('a lost connection is reported as such, promptly, not as a hang or a success', async () => {
    // Our own TCP relay on loopback in front of the API server, so we can cut the wire.
    const cfg = await resolveConfig({ kubeconfig: KUBECONFIG });
    const { server: apiServer, kc } = cfg;
    const api = new URL(apiServer);
    const sockets = new Set<Socket>();
    const relay: Server = createServer((client) => {
      const upstream = connect(Number(api.port || 443), api.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop);
      upstream.on('error', drop);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()));
    const port = (relay.address() as { port: number }).port;
    const cluster = kc.getCurrentCluster()!;
    // Same CA and credentials, only the address changes; TLS still checks the name (127.0.0.1 is in the certificate).
    kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${port}` } : c));
    const client = await createKubeClient({ ...cfg, kc });
    const { execInPod } = await import('../../src/kube/exec-stream.ts');
    const running = execInPod(client, {
      namespace: ns,
      pod: session.podName,
      container: 'netns',
      command: ['sleep', '60'],
      stdout: textSink(),
      stderr: textSink(),
    });
    await delay(1500);
    const cut = Date.now();
    for (const s of sockets) s.destroy();
    await assert.rejects(
      running,
      (e: unknown) =>
        e instanceof UserError &&
        e.exitCode === ExitCode.connection &&
        /connection to the API server was lost/.test(e.message),
    );
    assert.ok(Date.now() - cut < 5000, 'reported within seconds');
    relay.close();
  });
});
