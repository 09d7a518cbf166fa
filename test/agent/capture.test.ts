// `capture`, `stop`, `stats`: real tcpdump in a real network namespace, traffic from the root
// namespace over a veth (only to our own 10.231.x.x test address), pcap checked three ways:
// src/pcap's reader, tcpdump -r and tshark -r.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { readPcap } from '../helpers/pcap/reader.ts';
import {
  captureArgv,
  parseCaptureInfo,
  parseTcpdumpStats,
  statsArgv,
  stopArgv,
  type CaptureOptions,
} from '../../src/node/agent.ts';
import {
  addVeth,
  cleanupAll,
  createNetns,
  ipIn,
  onCleanup,
  prerequisiteSkip,
  rand,
  runAgent,
  shells,
  spawnInNetns,
  startAgent,
  tempFile,
  tool,
  track,
  which,
  type RunningAgent,
  type Shell,
  type TestNetns,
} from '../helpers/netns.ts';
import { CAPABILITIES } from '../../src/kube/debug-pod.ts';

// A capture id whose /tmp pid/stop files go away with the test (the agent leaves them in the pod).
function captureId(): string {
  const id = rand(4);
  onCleanup(() => rmSync(`/tmp/kubectl-netns-capture-${id}.pid`, { force: true }));
  onCleanup(() => rmSync(`/tmp/kubectl-netns-capture-${id}.stop`, { force: true }));
  return id;
}

const skip = prerequisiteSkip(['ip', 'nsenter', 'tcpdump', 'tshark', 'busybox', 'dash']);
const LINKTYPE_ETHERNET = 1;

function ping(addr: string, count: number): void {
  tool('busybox', ['ping', '-c', String(count), '-i', '0.2', '-W', '2', addr]);
}

function savePcap(bytes: Buffer): string {
  const file = tempFile('capture.pcap');
  writeFileSync(file, bytes);
  return file;
}

describe('agent capture', { skip, concurrency: false }, () => {
  let ns: TestNetns;
  before(async () => {
    ns = await createNetns();
  });
  after(cleanupAll);

  for (const shell of shells()) {
    describe(shell.name, () => {
      // Starts a capture and waits until tcpdump has opened the interface.
      async function capture(o: Partial<CaptureOptions> = {}): Promise<RunningAgent> {
        const agent = startAgent(shell, captureArgv({ pid: ns.pid, filter: [], ...o }));
        await agent.waitForStderr(/^tcpdump: listening on /);
        return agent;
      }
      const stop = (id: string) => runAgent(shell, stopArgv(id));

      test('records ICMP echo request and reply; -i auto picks the veth', async () => {
        const id = captureId();
        const agent = await capture({ id, filter: ['icmp'] });
        ping(ns.nsAddr, 3);
        const s = await stop(id);
        assert.equal(s.code, 0, s.stderr);
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);

        const info = r.stderr
          .split('\n')
          .map(parseCaptureInfo)
          .find((x) => x !== undefined);
        assert.deepEqual(info, { iface: 'eth0', netnsInode: ns.inode, pid: ns.pid });
        const pcap = readPcap(r.stdout);
        assert.equal(pcap.header.linkType, LINKTYPE_ETHERNET);
        assert.equal(pcap.records.length, 6);
        assert.equal(pcap.truncatedBytes, 0);
        // "Received by filter" also counts matching packets that arrive after the stop: at least, not exactly.
        const stats = parseTcpdumpStats(r.stderr);
        assert.equal(stats?.captured, 6, r.stderr);
        assert.equal(stats?.droppedByKernel, 0, r.stderr);
        assert.ok((stats?.receivedByFilter ?? 0) >= 6, r.stderr);

        const file = savePcap(r.stdout);
        const text = tool('tcpdump', ['-r', file, '-nn']);
        assert.equal(
          text.match(
            new RegExp(
              `IP ${ns.hostAddr.replaceAll('.', '\\.')} > ${ns.nsAddr.replaceAll('.', '\\.')}: ICMP echo request`,
              'g',
            ),
          )?.length,
          3,
          text,
        );
        assert.equal(text.match(/ICMP echo reply/g)?.length, 3, text);
        const tshark = tool('tshark', ['-r', file, '-T', 'fields', '-e', 'icmp.type', '-e', 'ip.dst']);
        assert.equal(
          tshark
            .trim()
            .split('\n')
            .filter((l) => l === `8\t${ns.nsAddr}`).length,
          3,
          tshark,
        );
        assert.equal(
          tshark
            .trim()
            .split('\n')
            .filter((l) => l === `0\t${ns.hostAddr}`).length,
          3,
          tshark,
        );
      });

      test('records a TCP connection to a listener inside the namespace, payload included', async () => {
        const id = captureId();
        const port = 8080;
        const payload = `knt-payload-${rand(8)}`;
        const agent = await capture({ id, filter: ['tcp', 'port', String(port)] });
        const listener = spawnInNetns(ns.name, ['busybox', 'nc', '-l', '-p', String(port)]);
        let received = '';
        listener.stdout!.on('data', (b: Buffer) => (received += b.toString()));
        const listenerDone = new Promise((resolve) => listener.once('close', resolve));
        await waitFor(() => listening(ns, port));
        await new Promise<void>((resolve, reject) => {
          const sock = connect({ host: ns.nsAddr, port }, () => sock.end(payload));
          sock.once('error', reject);
          sock.once('close', () => resolve());
        });
        await listenerDone;
        assert.equal(received, payload);
        await stop(id);
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        assert.equal(readPcap(r.stdout).truncatedBytes, 0);
        assert.ok(r.stdout.includes(Buffer.from(payload)), 'payload bytes in the pcap');

        const file = savePcap(r.stdout);
        const syn = tool('tshark', [
          '-r',
          file,
          '-Y',
          'tcp.flags.syn == 1 && tcp.flags.ack == 0',
          '-T',
          'fields',
          '-e',
          'ip.dst',
          '-e',
          'tcp.dstport',
        ]);
        assert.equal(syn.trim(), `${ns.nsAddr}\t${port}`);
        const data = tool('tshark', ['-r', file, '-Y', 'tcp.len > 0', '-T', 'fields', '-e', 'tcp.payload']);
        assert.equal(data.trim(), Buffer.from(payload).toString('hex'));
        assert.match(tool('tcpdump', ['-r', file, '-nn', '-A']), new RegExp(payload));
        assert.match(
          tool('tcpdump', ['-r', file, '-nn']),
          new RegExp(`> ${ns.nsAddr.replaceAll('.', '\\.')}\\.${port}: Flags \\[S\\]`),
        );
      });

      test("with only the debug pod's capabilities, a capture runs, is stopped and hands over its stats", async () => {
        // The pod spec's exact set (drop ALL, add CAPABILITIES): a bounding set that root's exec keeps.
        const caps = ['-all', ...CAPABILITIES.map((c) => `+${c.toLowerCase()}`)].join(',');
        const podShell: Shell = {
          ...shell,
          argv: [which('setpriv')!, '--bounding-set', caps, '--inh-caps', '-all', '--', ...shell.argv],
        };
        const id = captureId();
        const agent = startAgent(podShell, captureArgv({ pid: ns.pid, id, filter: ['icmp'] }));
        await agent.waitForStderr(/^tcpdump: listening on /);
        ping(ns.nsAddr, 2);
        assert.equal((await runAgent(podShell, statsArgv(id))).code, 0);
        assert.equal((await runAgent(podShell, stopArgv(id))).code, 0);
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        assert.equal(readPcap(r.stdout).records.length, 4);
        assert.equal(parseTcpdumpStats(r.stderr)?.captured, 4);
      });

      test('--count 3 stops by itself after 3 packets', async () => {
        const agent = await capture({ count: 3, filter: ['icmp'] });
        ping(ns.nsAddr, 3);
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        assert.equal(readPcap(r.stdout).records.length, 3);
        assert.equal(parseTcpdumpStats(r.stderr)?.captured, 3);
      });

      test('--duration 2 stops by itself after about 2 seconds', async () => {
        const started = Date.now();
        const agent = await capture({ durationSeconds: 2, filter: ['icmp'] });
        ping(ns.nsAddr, 1);
        const r = await agent.done;
        const took = Date.now() - started;
        assert.equal(r.code, 0, r.stderr);
        assert.ok(took >= 1900 && took < 4500, `took ${took} ms`);
        assert.equal(readPcap(r.stdout).records.length, 2);
        assert.ok(parseTcpdumpStats(r.stderr), r.stderr);
      });

      test('stop ends a busy capture promptly, on a complete record', async () => {
        const id = captureId();
        const agent = await capture({ id });
        const pinger = spawnPinger(ns.nsAddr);
        await new Promise((resolve) => setTimeout(resolve, 1200));
        const t0 = Date.now();
        const s = await stop(id);
        const r = await agent.done;
        pinger.kill();
        assert.equal(s.code, 0, s.stderr);
        assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
        assert.equal(r.code, 0, r.stderr);
        const pcap = readPcap(r.stdout);
        assert.ok(pcap.records.length >= 4, `${pcap.records.length} records`);
        assert.equal(pcap.truncatedBytes, 0);
        assert.equal(pcap.completeOffset, r.stdout.length);
        assert.equal(existsSync(`/tmp/kubectl-netns-capture-${id}.pid`), false, 'pidfile removed');
      });

      test('stop of a capture that is not running is fine; one that comes first wins', async () => {
        const id = captureId();
        const s = await stop(id);
        assert.equal(s.code, 0, s.stderr);
        const r = await runAgent(shell, captureArgv({ pid: ns.pid, id, filter: [] }));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.length, 0);
        assert.match(r.stderr, /stopped before it started/);
      });

      test("stats makes tcpdump print its running counts on the capture's stderr", async () => {
        const id = captureId();
        const agent = await capture({ id, filter: ['icmp'] });
        ping(ns.nsAddr, 2);
        const s = await runAgent(shell, statsArgv(id));
        assert.equal(s.code, 0, s.stderr);
        assert.equal(s.stdout.length, 0);
        const line = await agent.waitForStderr(/^tcpdump: \d+ packets? captured, /);
        assert.ok((parseTcpdumpStats(line)?.receivedByFilter ?? 0) >= 4, line);
        await stop(id);
        assert.equal((await agent.done).code, 0);
        const gone = await runAgent(shell, statsArgv(id));
        assert.equal(gone.code, 74, gone.stderr);
      });

      test("-i auto prefers the default route's interface; explicit -i and eth0@ifN work", async () => {
        const extra = addVeth(ns, 'net1');
        ipIn(ns, ['route', 'add', 'default', 'via', extra.hostAddr, 'dev', 'net1']);
        try {
          for (const [iface, want] of [
            ['auto', 'net1'],
            ['lo', 'lo'],
            ['eth0@if99', 'eth0'],
          ] as const) {
            const id = captureId();
            const agent = await capture({ id, iface });
            await stop(id);
            const r = await agent.done;
            assert.equal(r.code, 0, r.stderr);
            assert.equal(
              r.stderr
                .split('\n')
                .map(parseCaptureInfo)
                .find((x) => x)?.iface,
              want,
            );
          }
        } finally {
          ipIn(ns, ['route', 'del', 'default']);
          ipIn(ns, ['link', 'del', 'net1']);
        }
      });
    });
  }
});

function listening(ns: TestNetns, port: number): boolean {
  return tool('ip', ['netns', 'exec', ns.name, 'ss', '-ltnH']).includes(`:${port} `);
}

async function waitFor(ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// A bounded stream of pings (at most 50, 10 per second) for as long as a test needs.
function spawnPinger(addr: string) {
  return track(spawn('busybox', ['ping', '-c', '50', '-i', '0.1', addr], { stdio: 'ignore' }));
}
