// The node-side spool (capture --spool), for real, on the local cluster: the API connection is
// cut mid-capture through a relay of our own, and the real kube-apiserver is killed (SIGKILL) and
// started again; each time the client reconnects and reads on from the node's ring, so the file
// holds exactly what tcpdump captured, every datagram of a counted source once and in order, and
// the exit code is 0. A ring smaller than a burst behind a slow link wraps: the command says what
// was lost, the pcapng marks the place, and the exit code says the capture is incomplete.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  apiserverReady,
  createNamespace,
  debugPodStates,
  deleteNamespace,
  ensureCluster,
  killApiserver,
  KUBECONFIG,
  restartApiserver,
  restoreCluster,
  runPod,
  waitFor,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, startPlugin, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import { tsharkFields } from '../helpers/pcap/fixtures.ts';
import { readCapture, readPcap } from '../helpers/pcap/reader.ts';
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

/**
 * Sends datagrams FROM..TO-1 of SIZE bytes ("knetns-seq N", padded) as fast as the socket takes
 * them, in batches: a burst far larger than a small ring. Bounded by its count.
 */
async function burst(from: number, to: number, size: number): Promise<void> {
  const sock = createSocket('udp4');
  try {
    for (let i = from; i < to; i += 100) {
      const batch: Promise<void>[] = [];
      for (let j = i; j < Math.min(i + 100, to); j++) {
        const payload = Buffer.alloc(size, 0x2e);
        payload.write(`knetns-seq ${j}\n`);
        batch.push(
          new Promise((resolve, reject) => sock.send(payload, PORT, podIP, (e) => (e ? reject(e) : resolve()))),
        );
      }
      await Promise.all(batch);
    }
  } finally {
    sock.close();
  }
}

/** Resolves when the child's stderr (watched from now on) matches RE; never rejects. */
function stderrSays(child: ChildProcess, re: RegExp): Promise<void> {
  let text = '';
  return new Promise((resolve) =>
    child.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
      if (re.test(text)) resolve();
    }),
  );
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
  test('the real kube-apiserver killed (SIGKILL) mid-capture and started again: reconnects, no gap, no duplicate, exit 0', async () => {
    const file = join(dir, 'apiserver.pcap');
    const child = startPlugin(
      [
        'capture',
        'web',
        ...base,
        '--spool',
        '--spool-size',
        '16MB',
        '--reconnect-timeout',
        '120s',
        // It ends after the 300th datagram; the duration is only the bound.
        '--count',
        '300',
        '--duration',
        '240s',
        '-o',
        file,
        '-f',
        `udp port ${PORT}`,
      ],
      { env: { KUBECONFIG } },
    );
    const done = collect(child, 300_000);
    const back = stderrSays(child, /reconnected after/);
    let killedAt = 0;
    try {
      await waitForStderr(child, /capturing on/);
      await sendCounted(0, 100);
      const pid = await killApiserver();
      killedAt = Date.now();
      // Sent while there is no API server at all: the node's ring keeps them.
      await sendCounted(100, 200);
      await restartApiserver();
      const upMs = Date.now() - killedAt;
      await Promise.race([back, delay(120_000)]);
      const backMs = Date.now() - killedAt;
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
      const took = /reconnected after ([\d.]+)s \((\d+) attempt/.exec(r.stderr);
      console.log(
        `# apiserver pid ${pid} killed: up.sh had it back after ${upMs} ms; the stream reconnected ${took?.[1]} s after it broke (${took?.[2]} attempts, seen by the test ${backMs} ms after the kill); ${records} packets, none lost`,
      );
    } finally {
      if (killedAt && !apiserverReady()) restoreCluster();
      child.kill('SIGTERM');
    }
    await waitFor(
      'the debug pod gone',
      async () => (debugPodStates(ns).some((p) => !/^(Succeeded|Failed)$/.test(p.phase)) ? undefined : true),
      60_000,
      500,
    );
  });

  test('a ring smaller than a burst behind a slow link wraps: lost packets and bytes said, a comment at the gap, exit 14', async () => {
    const relay = await startRelay(dir);
    try {
      const file = join(dir, 'wrap.pcapng');
      const child = startPlugin(
        [
          'capture',
          'web',
          ...base,
          '--spool-size',
          '2MB',
          '--format',
          'pcapng',
          '--duration',
          '30s',
          '-o',
          file,
          '-f',
          `udp port ${PORT}`,
        ],
        { env: { KUBECONFIG: relay.kubeconfig } },
      );
      const done = collect(child, 180_000);
      await waitForStderr(child, /capturing \S+ on /);
      await sendCounted(0, 20);
      // A link of 256 KB/s, and a burst of 60 MB: far more than the 2 MB ring plus every buffer
      // between the node and us (pipes, TCP windows of kubelet, API server and relay).
      relay.throttle(256 * 1024);
      const sent = 20 + 50_000;
      await burst(20, sent, 1200);
      await delay(3000);
      relay.throttle(0);
      const r = await done;
      assert.equal(r.code, 14, r.stderr);
      const lost = /the capture is incomplete: (\d+) packets \(([^)]+)\) were lost on the node/.exec(r.stderr);
      assert.ok(lost, r.stderr);
      const lostPackets = Number(lost[1]);
      assert.ok(lostPackets > 0, r.stderr);
      assert.match(r.stderr, /hint: /i);
      // tcpdump's own counters, from the closing table: packets in the file, received by its filter, dropped by the kernel.
      const row = /\/web\s+\S+\s+(\d+)\s+[\d.]+ \S+\s+(\d+)\s+(\d+)\s+ended/.exec(r.stderr);
      assert.ok(row, r.stderr);
      const [, inFile, received, dropped] = row.map(Number) as [number, number, number, number];
      const captured = received - dropped;

      // Wireshark's own reader: the file reads to the end, and the gap carries a packet comment.
      const frames = tsharkFields(file, ['frame.number', 'frame.comment']);
      const comments = frames.filter((f) => f[1]);
      assert.ok(comments.length >= 1, 'tshark shows a comment where the ring lost packets');
      for (const c of comments) assert.match(c[1]!, /lost here: the node's spool wrapped before they were read/);
      const capture = readCapture(readFileSync(file));
      assert.equal(capture.truncatedBytes, 0);
      assert.equal(frames.length, capture.packets.length);
      assert.equal(capture.packets.length, inFile, 'the file holds what the command says it holds');
      assert.equal(
        capture.packets.length + lostPackets,
        captured,
        'what the file holds and what the command says was lost add up to what tcpdump captured',
      );
      const seqs = capture.packets.flatMap((p) => {
        const m = /knetns-seq (\d+)/.exec(p.data.toString('latin1'));
        return m ? [Number(m[1])] : [];
      });
      assert.ok(
        seqs.every((n, i) => i === 0 || n > seqs[i - 1]!),
        'no datagram twice, none out of order',
      );
      assert.equal(seqs.length, capture.packets.length, 'every packet is one of ours');
      for (const c of comments) {
        const k = Number(c[0]) - 1;
        assert.ok(k > 0 && seqs[k]! > seqs[k - 1]! + 1, `the comment sits where datagrams are missing (frame ${c[0]})`);
      }
      assert.deepEqual(
        seqs.slice(0, 20),
        Array.from({ length: 20 }, (_, i) => i),
        'what came before the burst is all there',
      );
      console.log(
        `# wrap: ${sent} datagrams sent, tcpdump captured ${captured} (${dropped} dropped by the kernel), file ${capture.packets.length}, lost ${lostPackets} (${lost[2]}), ${comments.length} comment(s)`,
      );
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
