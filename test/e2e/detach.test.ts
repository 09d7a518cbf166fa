// Detached captures for real, on the local cluster, on every node flavour: `capture --detach`
// returns at once with only the ID on stdout while the debug pod keeps capturing; `captures`
// lists it; `fetch` while it runs writes what it holds so far; `stop` ends it; a second fetch
// writes all of it (a counted traffic source: every datagram once, in order, nothing sent after
// the stop), which tshark and capinfos read, and then deletes the debug pod. Also the exit codes
// of bad IDs and missing flags, and that `cleanup` never deletes a detached capture before its
// deadline but does after it, and fetch --follow (node 1 only: they wait out a deadline and a
// follow); and a workload detached across two nodes, fetched into one pcapng.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  clusterNodes,
  createNamespace,
  debugPodStates,
  deleteNamespace,
  ensureCluster,
  KUBECONFIG,
  runPod,
  waitFor,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, runPlugin, startPlugin, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import { readPcap, readPcapng } from '../helpers/pcap/reader.ts';

const skip = ensureCluster();
const env = { KUBECONFIG };
const PORT = 9912;

/** Sends datagrams FROM..TO-1 to IP, each "knetns-seq N", 10 ms apart (bounded: a few hundred). */
async function sendCounted(ip: string, from: number, to: number): Promise<void> {
  const sock = createSocket('udp4');
  try {
    for (let i = from; i < to; i++) {
      await new Promise<void>((resolve, reject) =>
        sock.send(Buffer.from(`knetns-seq ${i}\n`), PORT, ip, (e) => (e ? reject(e) : resolve())),
      );
      await delay(10);
    }
  } finally {
    sock.close();
  }
}

/** The counted datagrams' numbers in FILE, in file order, after tshark and capinfos read it. */
function sequence(file: string): { seqs: number[]; records: number } {
  const pcap = readPcap(readFileSync(file));
  assert.equal(pcap.truncatedBytes, 0, `${file} ends on a record boundary`);
  const tshark = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  assert.equal(tshark.status, 0, tshark.stderr);
  assert.equal(tshark.stdout.trim().split('\n').filter(Boolean).length, pcap.records.length);
  const capinfos = execFileSync('capinfos', ['-c', '-M', file], { encoding: 'utf8' });
  assert.match(capinfos, new RegExp(`Number of packets:\\s+${pcap.records.length}\\b`), capinfos);
  const seqs = pcap.records.flatMap((r) => {
    const m = /knetns-seq (\d+)/.exec(r.data.toString('latin1'));
    return m ? [Number(m[1])] : [];
  });
  return { seqs, records: pcap.records.length };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

for (const node of skip ? [undefined] : clusterNodes()) {
  const ns = `e2e-detach-${node?.number ?? 0}-${process.pid}`;
  const base = ['-n', ns, '--image', DEBUG_IMAGE];
  const dir = mkdtempSync(join(tmpdir(), `knetns-detach-${node?.number ?? 0}-`));
  let podIP = '';

  describe(`detach on ${node ? `${node.name} (${node.flavour})` : 'no cluster'}`, { skip, timeout: 600_000 }, () => {
    before(async () => {
      await createNamespace(ns);
      podIP = (await runPod(ns, 'web', WEB_IMAGE, { nodeName: node!.name })).status.podIP;
    });
    after(async () => {
      await deleteNamespace(ns);
      rmSync(dir, { recursive: true, force: true });
    });

    test('detach, list, fetch while running, stop, fetch the rest: every datagram once, then no pod left', async () => {
      const started = await runPlugin(
        ['capture', 'web', ...base, '--detach', '--duration', '3m', '--spool-size', '4MB', '-f', `udp port ${PORT}`],
        { env, timeoutMs: 120_000 },
      );
      assert.equal(started.code, 0, started.stderr);
      const id = started.stdout.toString();
      assert.match(id, /^[0-9a-f]{8}\n$/, 'stdout holds the ID and nothing else');
      const ID = id.trim();
      assert.match(started.stderr, new RegExp(`detached capture ${ID}`));
      // The client has gone; the debug pod stays and captures.
      await delay(3000);
      const pods = debugPodStates(ns);
      assert.equal(pods.length, 1, JSON.stringify(pods));
      assert.equal(pods[0]!.phase, 'Running', 'the debug pod outlives its client');

      await sendCounted(podIP, 0, 100);
      await delay(1000);
      const listed = await runPlugin(['captures', ...base, '-o', 'json'], { env });
      assert.equal(listed.code, 0, listed.stderr);
      const items = JSON.parse(listed.stdout.toString()).items as Array<Record<string, any>>;
      assert.equal(items.length, 1, listed.stdout.toString());
      assert.equal(items[0]!.id, ID);
      assert.equal(items[0]!.target, `${ns}/web`);
      assert.equal(items[0]!.node, node!.name);
      assert.equal(items[0]!.state, 'running');
      assert.ok(items[0]!.bytes > 100 * 40, `the ring holds the datagrams: ${items[0]!.bytes} bytes`);
      assert.ok(items[0]!.startedBy, 'who started it is recorded');
      const table = await runPlugin(['captures', ...base], { env });
      assert.match(table.stdout.toString(), /^ID\s+TARGET\s+NODE\s+AGE\s+SIZE\s+RING\s+STATE\s+STARTED BY/);
      assert.match(table.stdout.toString(), new RegExp(`${ID}\\s+${ns}/web\\s+${node!.name}`));

      const first = join(dir, 'first.pcap');
      const f1 = await runPlugin(['fetch', ID, ...base, '-w', first], { env });
      assert.equal(f1.code, 0, f1.stderr);
      assert.match(f1.stderr, /still running/);
      assert.deepEqual(sequence(first).seqs, range(0, 100), 'the first fetch: all sent so far');

      await sendCounted(podIP, 100, 200);
      await delay(1000);
      const stopped = await runPlugin(['stop', ID, ...base], { env });
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stderr, /stopped 1 capture/);
      // Sent after the stop: not captured.
      await sendCounted(podIP, 200, 220);
      const ended = JSON.parse((await runPlugin(['captures', ...base, '-o', 'json'], { env })).stdout.toString());
      assert.equal(ended.items[0].state, 'done');

      const all = join(dir, 'all.pcap');
      const f2 = await runPlugin(['fetch', ID, ...base, '-w', all], { env });
      assert.equal(f2.code, 0, f2.stderr);
      const { seqs, records } = sequence(all);
      assert.deepEqual(seqs, range(0, 200), 'every datagram up to the stop once, in order; none after it');
      const reported = /tcpdump: (\d+) captured/.exec(f2.stderr);
      assert.ok(reported, f2.stderr);
      assert.equal(records, Number(reported[1]), 'the file holds exactly what tcpdump captured');
      assert.match(f2.stderr, /fetched whole: its debug pod is deleted/);
      await waitFor(
        'the detached debug pod gone after its whole fetch',
        async () => (debugPodStates(ns).length === 0 ? true : undefined),
        60_000,
        500,
      );
      const gone = await runPlugin(['fetch', ID, ...base, '-w', join(dir, 'gone.pcap')], { env });
      assert.equal(gone.code, 4, gone.stderr);
      assert.match(gone.stderr, /no detached capture/);
    });

    test('bad input: exit 2 before anything starts, exit 4 for an unknown ID; one line, no stack', async () => {
      const noDuration = await runPlugin(['capture', 'web', ...base, '--detach'], { env });
      assert.equal(noDuration.code, 2, noDuration.stderr);
      assert.match(noDuration.stderr, /--detach needs --duration/);
      const tooLong = await runPlugin(['capture', 'web', ...base, '--detach', '--duration', '4h'], { env });
      assert.equal(tooLong.code, 2, tooLong.stderr);
      const badId = await runPlugin(['fetch', 'not-an-id', ...base], { env });
      assert.equal(badId.code, 2, badId.stderr);
      const unknown = await runPlugin(['stop', 'deadbeef', ...base], { env });
      assert.equal(unknown.code, 4, unknown.stderr);
      for (const r of [noDuration, tooLong, badId, unknown])
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(debugPodStates(ns).length, 0, 'no debug pod was made');
    });

    if (node?.number === 1) {
      test('fetch --follow: live while it runs; Ctrl-C leaves it running; a follow ends with the capture at stop', async () => {
        const started = await runPlugin(
          ['capture', 'web', ...base, '--detach', '--duration', '3m', '--spool-size', '4MB', '-f', `udp port ${PORT}`],
          { env, timeoutMs: 120_000 },
        );
        assert.equal(started.code, 0, started.stderr);
        const ID = started.stdout.toString().trim();
        await sendCounted(podIP, 0, 50);
        // Interrupted: what arrived is a whole file, and the capture goes on.
        const early = join(dir, 'early.pcap');
        const first = startPlugin(['fetch', ID, ...base, '--follow', '-w', early], { env });
        const firstDone = collect(first, 60_000);
        await waitForStderr(first, /following it/);
        await delay(2000);
        first.kill('SIGINT');
        const r1 = await firstDone;
        assert.equal(r1.code, 130, r1.stderr);
        assert.deepEqual(sequence(early).seqs, range(0, 50), 'the interrupted follow: all sent so far');
        const listed = JSON.parse((await runPlugin(['captures', ...base, '-o', 'json'], { env })).stdout.toString());
        assert.equal(listed.items[0].state, 'running', 'Ctrl-C on fetch does not stop the capture');
        // A follow that runs until the capture ends: live packets arrive, then stop ends it.
        const live = join(dir, 'live.pcap');
        const second = startPlugin(['fetch', ID, ...base, '--follow', '-w', live], { env });
        const secondDone = collect(second, 120_000);
        await waitForStderr(second, /following it/);
        await sendCounted(podIP, 50, 120);
        await delay(1000);
        const stopped = await runPlugin(['stop', ID, ...base], { env });
        assert.equal(stopped.code, 0, stopped.stderr);
        const r2 = await secondDone;
        assert.equal(r2.code, 0, r2.stderr);
        const { seqs, records } = sequence(live);
        assert.deepEqual(seqs, range(0, 120), 'from the first packet to the stop, each once');
        const reported = /tcpdump: (\d+) captured/.exec(r2.stderr);
        assert.ok(reported, r2.stderr);
        assert.equal(records, Number(reported[1]));
        await waitFor('no debug pod left', async () => (debugPodStates(ns).length === 0 ? true : undefined), 60_000);
      });

      test('cleanup keeps a detached capture before its deadline, even with --all, and deletes it after', async () => {
        const started = await runPlugin(
          [
            'capture',
            'web',
            ...base,
            '--pod-timeout',
            '20s',
            '--detach',
            '--duration',
            '5s',
            '--keep',
            '10s',
            '--spool-size',
            '2MB',
          ],
          { env, timeoutMs: 120_000 },
        );
        assert.equal(started.code, 0, started.stderr);
        const kept = await runPlugin(['cleanup', ...base, '--all', '-o', 'json'], { env });
        assert.equal(kept.code, 0, kept.stderr);
        const rows = JSON.parse(kept.stdout.toString()).items as Array<Record<string, string>>;
        assert.equal(rows.length, 1, kept.stdout.toString());
        assert.equal(rows[0]!.state, 'detached');
        assert.equal(rows[0]!.action, 'skipped');
        assert.equal(debugPodStates(ns)[0]?.phase, 'Running');
        // Its deadline: pod timeout 20 s + duration 5 s + keep 10 s + 30 s of slack.
        await waitFor(
          'the detached pod past its deadline',
          async () => (/^(Succeeded|Failed)$/.test(debugPodStates(ns)[0]?.phase ?? '') ? true : undefined),
          150_000,
          1000,
        );
        const cleaned = await runPlugin(['cleanup', ...base], { env });
        assert.equal(cleaned.code, 0, cleaned.stderr);
        assert.match(cleaned.stderr, /deleted 1 debug pod/);
        await waitFor('no debug pod left', async () => (debugPodStates(ns).length === 0 ? true : undefined), 60_000);
      });
    }
  });
}

// A workload detached across two nodes (node 1 and node 2: two runtimes): one debug pod per node,
// one spool per pod, fetched into one pcapng with each pod its own interface.
const nodes = skip ? [] : clusterNodes().slice(0, 2);
describe(
  'detach a workload across nodes',
  { skip: skip ?? (nodes.length < 2 ? 'needs two nodes' : undefined), timeout: 600_000 },
  () => {
    const ns = `e2e-detach-wl-${process.pid}`;
    const base = ['-n', ns, '--image', DEBUG_IMAGE];
    const dir = mkdtempSync(join(tmpdir(), 'knetns-detach-wl-'));
    const ips: string[] = [];
    before(async () => {
      await createNamespace(ns);
      for (const [i, n] of nodes.entries())
        ips.push((await runPod(ns, `dw-${i}`, WEB_IMAGE, { nodeName: n.name, labels: { app: 'dw' } })).status.podIP);
    });
    after(async () => {
      await deleteNamespace(ns);
      rmSync(dir, { recursive: true, force: true });
    });

    test('-l app=dw --detach: two debug pods, both listed, one pcapng on fetch with each pod its own interface', async () => {
      const started = await runPlugin(
        [
          'capture',
          '-l',
          'app=dw',
          ...base,
          '--detach',
          '--duration',
          '3m',
          '--spool-size',
          '2MB',
          '-f',
          `udp port ${PORT}`,
        ],
        { env, timeoutMs: 180_000 },
      );
      assert.equal(started.code, 0, started.stderr);
      const ID = started.stdout.toString().trim();
      assert.match(ID, /^[0-9a-f]{8}$/);
      assert.equal(debugPodStates(ns).filter((p) => p.phase === 'Running').length, 2, 'one debug pod per node');
      await sendCounted(ips[0]!, 0, 40);
      await sendCounted(ips[1]!, 100, 140);
      await delay(1000);
      const listed = JSON.parse((await runPlugin(['captures', ...base, '-o', 'json'], { env })).stdout.toString());
      assert.deepEqual((listed.items as Array<{ id: string; target: string }>).map((i) => [i.id, i.target]).sort(), [
        [ID, `${ns}/dw-0`],
        [ID, `${ns}/dw-1`],
      ]);
      const stopped = await runPlugin(['stop', ID, ...base], { env });
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stderr, /stopped 2 capture/);
      const file = join(dir, 'wl.pcapng');
      const fetched = await runPlugin(['fetch', ID, ...base, '-w', file], { env });
      assert.equal(fetched.code, 0, fetched.stderr);
      const tshark = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.interface_name'], {
        encoding: 'utf8',
      });
      assert.equal(tshark.status, 0, tshark.stderr);
      const png = readPcapng(readFileSync(file));
      assert.equal(png.truncatedBytes, 0);
      const byIface = new Map<string, number[]>();
      for (const p of png.packets) {
        const m = /knetns-seq (\d+)/.exec(p.data.toString('latin1'));
        if (!m) continue;
        const name = png.interfaces[p.interfaceId]!.name ?? '?';
        byIface.set(name, [...(byIface.get(name) ?? []), Number(m[1])]);
      }
      assert.deepEqual(byIface.get(`${ns}/dw-0/eth0`), range(0, 40));
      assert.deepEqual(byIface.get(`${ns}/dw-1/eth0`), range(100, 140));
      const capinfos = execFileSync('capinfos', ['-c', '-M', file], { encoding: 'utf8' });
      assert.match(capinfos, new RegExp(`Number of packets:\\s+${png.packets.length}\\b`));
      const reported = /tcpdump: (\d+) captured/.exec(fetched.stderr);
      assert.ok(reported, fetched.stderr);
      assert.equal(png.packets.length, Number(reported[1]), 'the file holds what both tcpdumps captured');
      await waitFor('no debug pod left', async () => (debugPodStates(ns).length === 0 ? true : undefined), 60_000);
    });
  },
);
