// Benchmark: the exec stream on the real local cluster, ours (src/kube/exec-stream.ts) next to
// client-node's own Exec, in the same run and against the same debug pod, so the ratios mean
// something on a shared, noisy machine. Prints figures only.
//
//   node scripts/bench/exec-stream.ts [--mib 64] [--slow-mbps 40]
//
// Fast sink: throughput (MB/s) of a /dev/zero stream into a sink that discards.
// Slow sink: a sink limited to --slow-mbps; we report the peak of bytes queued in front of it
// (its writableLength) — what backpressure is for — and, for reference, the peak of arrayBuffers
// above the start (noisier: it also counts garbage not yet collected).
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { PassThrough, Writable } from 'node:stream';
import { Exec } from '@kubernetes/client-node';
import { resolveConfig } from '../../src/kube/config.ts';
import { createKubeClient } from '../../src/kube/client.ts';
import { DebugSession } from '../../src/kube/session.ts';
import { CONTAINER_NAME } from '../../src/kube/debug-pod.ts';
import { KUBECONFIG } from '../cluster/paths.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '64' }, 'slow-mbps': { type: 'string', default: '40' }, kubeconfig: { type: 'string', default: KUBECONFIG } } });
const bytes = Number(values.mib) * 1024 * 1024;
const slowBps = Number(values['slow-mbps']) * 1e6;

function sink(bytesPerSec: number | undefined): Writable & { got: number; lastByteAt: number } {
  const w = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _e, cb) {
      w.got += chunk.length;
      // Throughput ends at the last byte, not at the command's exit (it lingers; see below).
      if (w.got >= bytes) w.lastByteAt = performance.now();
      if (bytesPerSec === undefined) cb();
      else setTimeout(cb, (chunk.length / bytesPerSec) * 1000);
    },
  }) as Writable & { got: number; lastByteAt: number };
  w.got = 0;
  w.lastByteAt = 0;
  return w;
}

function sampler(w: Writable): { stop(): { queued: number; arrayBuffers: number } } {
  const base = process.memoryUsage().arrayBuffers;
  let queued = 0;
  let arrayBuffers = 0;
  const t = setInterval(() => {
    queued = Math.max(queued, w.writableLength);
    arrayBuffers = Math.max(arrayBuffers, process.memoryUsage().arrayBuffers - base);
  }, 10);
  return { stop: () => (clearInterval(t), { queued, arrayBuffers }) };
}

const cfg = await resolveConfig({ kubeconfig: values.kubeconfig, namespace: 'default' });
const client = await createKubeClient(cfg);
const nodeName = (await client.listNodes())[0]!.metadata!.name!;
const session = await DebugSession.open(client, { namespace: 'default', nodeName, image: 'kubectl-netns.local/debug:dev', privileged: false, target: undefined, version: 'bench', podTimeoutMs: 60_000 });
// The command lingers after writing: Kubernetes drops stdout in flight when it exits (kubernetes#124571).
const command = ['sh', '-c', `head -c ${bytes} /dev/zero; sleep 2`];

async function ours(out: Writable & { got: number; lastByteAt: number }): Promise<void> {
  await session.exec(command, { stdout: out, stderr: new PassThrough() });
}

// client-node's Exec resolves when the socket opens; the end is the status callback.
async function theirs(out: Writable & { got: number; lastByteAt: number }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    void new Exec(cfg.kc).exec('default', session.podName, CONTAINER_NAME, command, out, new PassThrough(), null, false, () => resolve()).catch(reject);
  });
  // Its sink may still hold what it buffered; wait until everything reached it.
  while (out.got < bytes) await new Promise((r) => setTimeout(r, 5));
}

try {
  const rows: string[] = [];
  for (const [name, fn] of [['ours', ours], ['client-node Exec', theirs]] as const) {
    const fast = sink(undefined);
    const t0 = performance.now();
    await fn(fast);
    const secs = (fast.lastByteAt - t0) / 1000;
    const slow = sink(slowBps);
    const s = sampler(slow);
    await fn(slow);
    const peak = s.stop();
    const mib = (n: number) => (n / 1048576).toFixed(1).padStart(6);
    rows.push(`${name.padEnd(18)} fast sink ${(bytes / 1e6 / secs).toFixed(1).padStart(7)} MB/s   slow sink (${values['slow-mbps']} MB/s): peak queued ${mib(peak.queued)} MiB, peak arrayBuffers ${mib(peak.arrayBuffers)} MiB`);
  }
  process.stdout.write(`exec stream, ${values.mib} MiB of /dev/zero through the API server and kubelet\n${rows.join('\n')}\n`);
} finally {
  await session.close();
}
