// The node-side spool (capture --spool), for real, on the local cluster: the API connection is
// cut mid-capture through a relay of our own; the client reconnects and reads on from the node's
// ring, so the file holds exactly what tcpdump captured, every datagram of a counted source once
// and in order, and the exit code is 0. Also: without --spool the default capture is unchanged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  createNamespace,
  debugPodStates,
  deleteNamespace,
  ensureCluster,
  runPod,
  waitFor,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, startPlugin, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import { readPcap } from '../helpers/pcap/reader.ts';
import { startRelay } from '../helpers/relay.ts';

const skip = ensureCluster();
const ns = `e2e-spool-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'knetns-spool-'));
const base = ['-n', ns, '--image', DEBUG_IMAGE];
const PORT = 9911;
let podIP = '';

/** Sends datagrams FROM..TO-1 to the pod, each "knetns-seq N", 20 ms apart (bounded: a few hundred). */
async function sendCounted(from: number, to: number): Promise<void> {
  const sock = createSocket('udp4');
  try {
    for (let i = from; i < to; i++) {
      await new Promise<void>((resolve, reject) =>
        sock.send(Buffer.from(`knetns-seq ${i}\n`), PORT, podIP, (e) => (e ? reject(e) : resolve())),
      );
      await delay(20);
    }
  } finally {
    sock.close();
  }
}

/** The sequence numbers of the counted datagrams in FILE, in file order; tshark must read it. */
function sequence(file: string): { seqs: number[]; records: number } {
  const pcap = readPcap(readFileSync(file));
  assert.equal(pcap.truncatedBytes, 0, `${file} ends on a record boundary`);
  const tshark = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  assert.equal(tshark.status, 0, tshark.stderr);
  assert.equal(tshark.stdout.trim().split('\n').filter(Boolean).length, pcap.records.length);
  const seqs = pcap.records.flatMap((r) => {
    const m = /knetns-seq (\d+)/.exec(r.data.toString('latin1'));
    return m ? [Number(m[1])] : [];
  });
  return { seqs, records: pcap.records.length };
}

describe('spool', { skip, timeout: 600_000 }, () => {
  before(async () => {
    await createNamespace(ns);
    podIP = (await runPod(ns, 'web', WEB_IMAGE)).status.podIP;
  });
  after(async () => {
    await deleteNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the API connection cut mid-capture: reconnects, reads on from the ring; no gap, no duplicate, exit 0', async () => {
    const relay = await startRelay(dir);
    try {
      const file = join(dir, 'cut.pcap');
      const child = startPlugin(
        [
          'capture',
          'web',
          ...base,
          '--spool',
          '--spool-size',
          '16MB',
          '--duration',
          '25s',
          '-o',
          file,
          '-f',
          `udp port ${PORT}`,
        ],
        { env: { KUBECONFIG: relay.kubeconfig } },
      );
      const done = collect(child, 180_000);
      // Watched from the start: the stream may be back before the datagrams of the break are sent.
      let stderr = '';
      const back = new Promise<void>((resolve) =>
        child.stderr!.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (/reconnected after/.test(stderr)) resolve();
        }),
      );
      await waitForStderr(child, /capturing on/);
      await sendCounted(0, 100);
      const cutAt = Date.now();
      relay.cut(); // every connection reset; new ones still go through
      // Sent while the stream is down: the node's ring keeps them.
      await sendCounted(100, 200);
      await Promise.race([back, delay(60_000)]);
      const backMs = Date.now() - cutAt;
      await sendCounted(200, 300);
      const r = await done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /the stream of .*web broke/);
      assert.match(r.stderr, /reconnected after [\d.]+s .*nothing lost/);
      const reported = /tcpdump: (\d+) captured/.exec(r.stderr);
      assert.ok(reported, r.stderr);
      const { seqs, records } = sequence(file);
      assert.equal(records, Number(reported[1]), 'the file holds exactly the packets tcpdump captured');
      assert.deepEqual(
        seqs,
        Array.from({ length: 300 }, (_, i) => i),
        'every counted datagram once, in order',
      );
      console.log(`# reconnect: stream back ${backMs} ms after the cut; ${records} packets, none lost`);
    } finally {
      relay.close();
    }
    await waitFor(
      'the debug pod gone',
      async () => (debugPodStates(ns).some((p) => !/^(Succeeded|Failed)$/.test(p.phase)) ? undefined : true),
      30_000,
      500,
    );
  });
});
