// `kubectl netns capture` against the real local cluster: a real debug pod on a real kubelet,
// tcpdump in the target pod's namespace, pcap streamed back through the exec websocket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  clusterNodes,
  ensureCluster,
  kubectl,
  createNamespace,
  runPod,
  deleteNamespace,
  debugPods,
  httpGet,
  KUBECONFIG,
  sendUdp,
  kubectlRun,
  waitFor,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, PLUGIN, runPlugin, startPlugin, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import { readCapture } from '../helpers/pcap/reader.ts';
import { summarize } from '../helpers/pcap/packets.ts';
import { tempDir } from '../helpers/temp.ts';

const skip = ensureCluster();
const env = { KUBECONFIG };

// Capturing and its cleanup on EVERY node flavour (the same tests); the stream's finer behaviour
// (slow readers, signals, pipes, a terminal) does not depend on the node and runs on node 1.
for (const node of skip ? [undefined] : clusterNodes()) {
  const ns = `e2e-capture-${node?.number ?? 0}-${process.pid}`;
  const base = ['-n', ns, '--image', DEBUG_IMAGE];
  // One directory per node: the killed runs on one node leave .partial files by design, and the
  // next node's "no temporary file left" must see only its own.
  const dir = tempDir(`knetns-e2e-${node?.number ?? 0}-`);
  let podIP = '';

  /** HTTP GETs from the root namespace to the pod (our own test host, routed to its node). */
  const sendRequests = async (n: number, path = '/index.html'): Promise<void> => {
    for (let i = 0; i < n; i++) await httpGet(`http://${podIP}:8080${path}?i=${i}`);
  };

  describe(`capture on ${node ? `${node.name} (${node.flavour})` : 'no cluster'}`, { skip, timeout: 900_000 }, () => {
    before(async () => {
      await createNamespace(ns);
      const pod = await runPod(ns, 'web', WEB_IMAGE, { nodeName: node!.name });
      podIP = pod.status?.podIP ?? '';
      assert.match(podIP, /^\d+\.\d+\.\d+\.\d+$/);
    });
    after(async () => {
      await deleteNamespace(ns);
    });

    test('to a file while HTTP requests arrive: SYNs and the GET are in a pcap that tcpdump and tshark read; no debug pod remains', async () => {
      const file = join(dir, `web-${node!.number}.pcap`);
      const child = startPlugin(['capture', 'web', ...base, '-o', file, '--duration', '6s'], { env });
      const done = collect(child);
      await waitForStderr(child, /capturing on eth0/);
      await sendRequests(3);
      const r = await done;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.length, 0, 'nothing on stdout when writing a file');
      assert.doesNotMatch(r.stderr, /capturing: \d+ packets/, 'no live status line when stderr is not a terminal');
      const cap = readCapture(readFileSync(file));
      const s = summarize(
        cap.packets,
        cap.interfaces.map((i) => i.linkType),
      );
      assert.ok(s.tcpSyns >= 3, `expected >= 3 SYNs, got ${s.tcpSyns}`);
      assert.ok(
        s.httpRequests.some((h) => h.line === 'GET /index.html?i=0 HTTP/1.1' && h.dst === podIP),
        JSON.stringify(s.httpRequests),
      );
      const tcpdumpText = execFileSync('tcpdump', ['-nn', '-r', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      assert.match(tcpdumpText, new RegExp(`> ${podIP.replace(/\./g, '\\.')}\\.8080: Flags \\[S\\]`));
      const tshark = execFileSync(
        'tshark',
        ['-r', file, '-Y', 'http.request', '-T', 'fields', '-e', 'http.request.uri'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
      );
      assert.match(tshark, /\/index\.html\?i=0/);
      assert.match(
        r.stderr,
        new RegExp(
          `captured \\d+ packets .* to .*web-${node!.number}\\.pcap; tcpdump: \\d+ captured, \\d+ received by filter, 0 dropped by kernel`,
        ),
      );
      assert.deepEqual(debugPods(ns), []);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.includes('partial')),
        [],
        'no temporary file left',
      );
    });

    test('a second Ctrl-C exits at once and says what may be left; cleanup finds it', async () => {
      const before = new Set(debugPods(ns));
      const child = startPlugin(['capture', 'web', ...base, '-o', join(dir, `twice-${node!.number}.pcap`)], { env });
      const done = collect(child);
      await waitForStderr(child, /capturing on/);
      child.kill('SIGINT');
      // Apart enough that the kernel does not merge them into one pending signal.
      await delay(100);
      child.kill('SIGINT');
      const r = await done;
      assert.equal(r.code, 130);
      assert.ok(r.ms < 60_000);
      assert.match(
        r.stderr,
        /warning: debug pod e2e-capture-[\d-]+\/netns-web-\w+ may be left behind; `kubectl netns cleanup` removes it/,
      );
      const left = debugPods(ns).filter((p) => !before.has(p));
      if (left.length > 0) {
        // Its client is gone, so the pod ends by itself within seconds; cleanup then deletes it
        // (a pod still running is someone's live session, which cleanup leaves alone).
        const name = left[0]!.split('/')[1]!;
        await waitFor(
          'the abandoned debug pod to end',
          async () => {
            const phase = kubectlRun(['get', 'pod', '-n', ns, name, '-o', 'jsonpath={.status.phase}']).stdout;
            return phase === 'Running' || phase === 'Pending' ? undefined : true;
          },
          30_000,
        );
        const c = await runPlugin(['cleanup', '-n', ns], { env });
        assert.equal(c.code, 0, c.stderr);
      }
      assert.deepEqual(
        debugPods(ns).filter((p) => !before.has(p)),
        [],
      );
    });

    if (node?.number === 1) {
      test('-o - pipes pcap into a reader (tcpdump -r -), and --count stops the capture', async () => {
        const child = startPlugin(['capture', 'web', ...base, '-o', '-', '--count', '4', '--', 'tcp', 'port', '8080'], {
          env,
        });
        const reader = spawn('tcpdump', ['-nn', '-r', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
        // Listened for now: the reader may close before the plugin's own close is seen.
        const readerClosed = new Promise((resolve) => reader.on('close', resolve));
        child.stdout!.pipe(reader.stdin);
        let text = '';
        reader.stdout.on('data', (c: Buffer) => (text += c.toString()));
        const done = collect(child);
        await waitForStderr(child, /capturing on/);
        await sendRequests(2);
        const r = await done;
        assert.equal(r.code, 0, r.stderr);
        await readerClosed;
        assert.equal(text.trim().split('\n').length, 4, text);
        assert.match(text, /8080/);
        assert.deepEqual(debugPods(ns), []);
      });

      test('a slow reader still gets every packet tcpdump captured (the exec stream does not drop the tail)', async () => {
        // tcpdump stops by itself (--count, or --duration should the bridge drop some of the burst)
        // while megabytes are still on their way to a reader slower than the traffic: Kubernetes
        // drops what is in flight when the exec'd command exits, unless the agent waits for our ack.
        const want = 3000;
        const child = startPlugin(
          [
            'capture',
            'web',
            ...base,
            '-o',
            '-',
            '--count',
            String(want),
            '--duration',
            '20s',
            '--',
            'udp',
            'port',
            '9999',
          ],
          { env },
        );
        child.stdout!.pause();
        let stderr = '';
        child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        await waitForStderr(child, /capturing on/);
        const sock = createSocket('udp4');
        const payload = Buffer.alloc(1400, 0x61);
        for (let i = 0; i < want + 300; i++) {
          await new Promise<void>((resolve, reject) =>
            sock.send(payload, 9999, podIP, (e) => (e ? reject(e) : resolve())),
          );
          // Paced, so the bridge's backlog does not drop the burst.
          if (i % 50 === 49) await delay(5);
        }
        sock.close();
        const chunks: Buffer[] = [];
        for await (const chunk of child.stdout!) {
          chunks.push(chunk as Buffer);
          await delay(10);
        }
        assert.equal(await exited, 0, stderr);
        const cap = readCapture(Buffer.concat(chunks));
        const counted = Number(/tcpdump: (\d+) captured/.exec(stderr)?.[1]);
        assert.ok(counted > 2000, `tcpdump captured ${counted}; stderr: ${stderr}`);
        assert.equal(cap.truncatedBytes, 0);
        assert.equal(cap.packets.length, counted, `every packet tcpdump wrote reached the reader; stderr: ${stderr}`);
        assert.doesNotMatch(stderr, /did not arrive/);
      });

      test('-o - | head: when the reader exits the capture stops by itself and its debug pod goes', async () => {
        // A real shell pipeline, so the plugin's stdout IS head's stdin, as on a user's terminal.
        const words = [process.execPath, PLUGIN, 'capture', 'web', ...base, '-o', '-'].map((w) => `'${w}'`).join(' ');
        const child = spawn('sh', ['-c', `${words} | head -c 100 | wc -c`], {
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const done = collect(child);
        await waitForStderr(child, /capturing on/);
        // Traffic until head has its 100 bytes and exits; the plugin then finds its stdout closed.
        for (let i = 0; i < 10; i++) await sendRequests(1).catch(() => {});
        const r = await done;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout.toString(), /^100\n/);
        assert.match(r.stderr, /captured \d+ packets .* to stdout/);
        assert.ok(r.ms < 60_000);
        assert.deepEqual(debugPods(ns), []);
      });

      test('SIGTERM stops the capture like Ctrl-C (exit 143), the file is complete, no debug pod remains', async () => {
        const file = join(dir, 'terminated.pcap');
        const child = startPlugin(['capture', 'web', ...base, '-o', file], { env });
        const done = collect(child);
        await waitForStderr(child, /capturing on/);
        await sendRequests(1);
        child.kill('SIGTERM');
        const r = await done;
        assert.equal(r.code, 143, r.stderr);
        assert.equal(readCapture(readFileSync(file)).truncatedBytes, 0);
        assert.deepEqual(debugPods(ns), []);
      });

      test('on a terminal, one live status line shows packets, bytes, rate and kernel drops', async () => {
        const file = join(dir, 'status.pcap');
        const cmd = [process.execPath, PLUGIN, 'capture', 'web', ...base, '-o', file, '--duration', '7s']
          .map((w) => `'${w}'`)
          .join(' ');
        // script(1) gives the plugin a pty for stderr, as an interactive user has.
        const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
          env: { ...process.env, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let screen = '';
        child.stdout.on('data', (c: Buffer) => (screen += c.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
        while (!/capturing on/.test(screen)) await delay(100);
        for (let i = 0; i < 10; i++) await sendRequests(1);
        assert.equal(await exited, 0, screen);
        const updates = screen
          .split('\r\x1b[K')
          .map((l) => l.trim())
          .filter((l) => l.startsWith('capturing:'));
        assert.ok(updates.length >= 3, screen);
        assert.match(
          updates.at(-1)!,
          /^capturing: \d+ packets, [\d.]+ (B|KiB|MiB) \(\d+ pkt\/s, [\d.]+ (B|KiB|MiB)\/s\), 0 dropped by kernel, \ds$/,
        );
        assert.match(screen, /captured \d+ packets/);
      });

      test('SIGINT: exits promptly, the pcap is valid up to its last packet, no debug pod remains', async () => {
        const file = join(dir, 'interrupted.pcap');
        const child = startPlugin(['capture', 'web', ...base, '-o', file], { env });
        const done = collect(child);
        await waitForStderr(child, /capturing on/);
        await sendRequests(2);
        await delay(500);
        const t0 = Date.now();
        child.kill('SIGINT');
        const r = await done;
        const took = Date.now() - t0;
        assert.equal(r.code, 130, r.stderr);
        assert.ok(took < 15_000, `took ${took}ms to stop`);
        const cap = readCapture(readFileSync(file));
        assert.equal(cap.truncatedBytes, 0);
        assert.ok(cap.packets.length >= 6, `${cap.packets.length} packets`);
        execFileSync('tcpdump', ['-r', file], { stdio: 'ignore' });
        assert.deepEqual(debugPods(ns), []);
      });

      test('two captures of the same pod at once do not interfere', async () => {
        const a = join(dir, 'a.pcap');
        const b = join(dir, 'b.pcap');
        const ca = startPlugin(['capture', 'web', ...base, '-o', a, '--duration', '8s', '--', 'tcp', 'port', '8080'], {
          env,
        });
        const cb = startPlugin(['capture', 'web', ...base, '-o', b, '--duration', '8s', '-f', 'udp port 9999'], {
          env,
        });
        const [ra, rb] = [collect(ca), collect(cb)];
        await Promise.all([waitForStderr(ca, /capturing on/), waitForStderr(cb, /capturing on/)]);
        await sendRequests(2);
        await sendUdp(podIP, 5);
        const [xa, xb] = await Promise.all([ra, rb]);
        assert.equal(xa.code, 0, xa.stderr);
        assert.equal(xb.code, 0, xb.stderr);
        const sa = summarize(readCapture(readFileSync(a)).packets, [1]);
        const sb = summarize(readCapture(readFileSync(b)).packets, [1]);
        assert.ok((sa.protocols.tcp ?? 0) > 0 && !sa.protocols.udp, JSON.stringify(sa.protocols));
        assert.equal(sb.protocols.udp, 5, JSON.stringify(sb.protocols));
        assert.ok(!sb.protocols.tcp, JSON.stringify(sb.protocols));
        assert.deepEqual(debugPods(ns), []);
      });

      test('SIGKILL of the client: the debug pod stops by itself (at the latest by its deadline), and cleanup removes it', async () => {
        const before = new Set(debugPods(ns));
        const child = startPlugin(
          ['capture', 'web', ...base, '-o', join(dir, 'killed.pcap'), '--duration', '2s', '--pod-timeout', '10s'],
          { env },
        );
        const done = collect(child);
        await waitForStderr(child, /capturing on/);
        child.kill('SIGKILL');
        await done;
        const [left] = debugPods(ns).filter((p) => !before.has(p));
        assert.ok(left, 'a SIGKILLed client leaves its debug pod behind');
        const name = left.split('/')[1]!;
        const deadline = Number(
          kubectl(['get', 'pod', '-n', ns, name, '-o', 'jsonpath={.spec.activeDeadlineSeconds}']),
        );
        assert.equal(deadline, 10 + 2 + 30);
        // Its main process ends a few seconds after the hold went with the client (its reconnect
        // window: Succeeded); the kubelet's deadline is the backstop (Failed).
        let phase = '';
        for (let i = 0; i < 90 && phase !== 'Failed' && phase !== 'Succeeded'; i++) {
          await delay(1000);
          phase = kubectl(['get', 'pod', '-n', ns, name, '-o', 'jsonpath={.status.phase}']);
        }
        assert.match(phase, /^(Failed|Succeeded)$/, 'the pod stops by itself');
        const r = await runPlugin(['cleanup', '-n', ns], { env });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout.toString(), new RegExp(name));
        assert.match(r.stderr, /deleted \d+ debug pod/);
        assert.deepEqual(debugPods(ns), []);
        assert.ok(!existsSync(join(dir, 'killed.pcap')), 'no half-written file under the final name');
      });
    }
  });
}
