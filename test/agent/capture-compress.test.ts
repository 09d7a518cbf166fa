// `capture --compress` and `capture --uid --cid` (the PID found in the capture's own exec): real
// tcpdump in a real namespace, the compressed stream decompressed with node's zlib and read back
// with tshark. busybox sh has only busybox's gzip (auto picks gzip), dash has Debian's zstd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { readPcap } from '../helpers/pcap/reader.ts';
import { captureArgv, parseAgentError, stopArgv, type CaptureOptions } from '../../src/node/agent.ts';
import {
  cleanupAll,
  containerId,
  createNetns,
  imageLikeBin,
  moveToCgroup,
  onCleanup,
  podUid,
  prerequisiteSkip,
  rand,
  runAgent,
  shells,
  startAgent,
  tempFile,
  tool,
  which,
  type TestNetns,
} from '../helpers/netns.ts';

const skip = prerequisiteSkip(['ip', 'nsenter', 'tcpdump', 'tshark', 'busybox', 'dash', 'gzip', 'zstd']);

function captureId(): string {
  const id = rand(4);
  for (const ext of ['pid', 'stop', 'ack', 'fifo', 'chunk', 'chunk.log'])
    onCleanup(() => rmSync(`/tmp/kubectl-netns-capture-${id}.${ext}`, { force: true }));
  return id;
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/**
 * Decompresses a stream of gzip members or zstd frames with the real gzip/zstd CLI, whichever it
 * starts with; a stream cut inside a member gives what comes before the cut.
 */
function decompress(bytes: Buffer): Buffer {
  const tool = bytes.subarray(0, 2).equals(GZIP_MAGIC)
    ? 'gzip'
    : bytes.subarray(0, 4).equals(ZSTD_MAGIC)
      ? 'zstd'
      : undefined;
  if (!tool) throw new Error(`neither gzip nor zstd: ${bytes.subarray(0, 8).toString('hex')}`);
  try {
    return execFileSync(tool, ['-dc'], { input: bytes, stdio: ['pipe', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  } catch (err) {
    return (err as { stdout?: Buffer }).stdout ?? Buffer.alloc(0);
  }
}

/** ICMP echo requests in a pcap, by tshark. */
function echoRequests(pcap: Buffer): number {
  const file = tempFile('c.pcap');
  writeFileSync(file, pcap);
  const out = tool('tshark', ['-r', file, '-Y', 'icmp.type == 8', '-T', 'fields', '-e', 'icmp.seq']).trim();
  return out ? out.split('\n').length : 0;
}

function ping(addr: string, count: number): void {
  tool('busybox', ['ping', '-c', String(count), '-i', '0.2', '-W', '2', addr]);
}

describe('agent capture --compress and --uid/--cid', { skip, concurrency: false }, () => {
  let ns: TestNetns;
  before(async () => {
    ns = await createNetns();
  });
  after(cleanupAll);

  for (const shell of shells()) {
    const expected = shell.name === 'dash' ? 'zstd' : 'gzip';
    describe(shell.name, () => {
      test(`--compress auto streams ${expected}; each packet arrives before the capture ends`, async () => {
        const id = captureId();
        const o: CaptureOptions = { pid: ns.pid, id, compress: 'auto', filter: ['icmp'] };
        const agent = startAgent(shell, captureArgv(o));
        await agent.waitForStderr(/^tcpdump: listening on /);
        assert.match(agent.stderr(), new RegExp(`info: compressing with ${expected}`));
        ping(ns.nsAddr, 2);
        // Still capturing: what arrived so far must already hold both requests (no packet waits
        // in the compressor for more traffic).
        for (let i = 0; i < 100 && icmpPairsSoFar(agent.stdout()) < 2; i++) await new Promise((r) => setTimeout(r, 50));
        assert.equal(icmpPairsSoFar(agent.stdout()), 2, 'packets held back in the compressor');
        ping(ns.nsAddr, 3);
        assert.equal((await runAgent(shell, stopArgv(id))).code, 0);
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        assert.equal(echoRequests(decompress(r.stdout)), 5);
        assert.match(r.stderr, /10 packets captured/);
      });

      test('--compress zstd without zstd in the image: NO_COMPRESSOR, nothing captured', async () => {
        const env = { PATH: imageLikeBin() };
        const r = await runAgent(shell, captureArgv({ pid: ns.pid, compress: 'zstd', filter: [] }), { env });
        assert.equal(r.code, 77, r.stderr);
        assert.equal(parseAgentError(r.stderr)?.code, 'NO_COMPRESSOR');
        assert.equal(r.stdout.length, 0);
      });

      test('--uid with --cid finds the container process and captures in its namespace', async () => {
        const uid = podUid();
        const cid = containerId();
        moveToCgroup(ns.pid, 'pids', `kubepods/besteffort/pod${uid}/${cid}`);
        const id = captureId();
        const agent = startAgent(
          shell,
          captureArgv({ find: { podUid: uid, containerIds: [`containerd://${cid}`] }, id, filter: ['icmp'] }),
        );
        await agent.waitForStderr(/^tcpdump: listening on /);
        assert.match(agent.stderr(), new RegExp(`info: pid ${ns.pid} is in container ${cid}`));
        assert.match(agent.stderr(), new RegExp(`capturing on eth0 in netns ${ns.inode} \\(pid ${ns.pid}\\)`));
        ping(ns.nsAddr, 2);
        assert.equal((await runAgent(shell, stopArgv(id))).code, 0);
        const r = await agent.done;
        assert.equal(r.code, 0, r.stderr);
        assert.equal(echoRequests(r.stdout), 2);
      });

      test('--uid of a pod with no process here: NO_CONTAINER before tcpdump starts', async () => {
        const r = await runAgent(
          shell,
          captureArgv({ find: { podUid: podUid(), containerIds: [containerId()] }, filter: [] }),
        );
        assert.equal(parseAgentError(r.stderr)?.code, 'NO_CONTAINER', r.stderr);
        assert.doesNotMatch(r.stderr, /listening on/);
        assert.equal(r.stdout.length, 0);
      });
    });
  }

  test('dash with neither zstd nor gzip on PATH: --compress auto fails with NO_COMPRESSOR', async () => {
    const dash = { name: 'dash', argv: [which('dash')!], env: { ...process.env, PATH: imageLikeBin(['gzip']) } };
    const r = await runAgent(dash, captureArgv({ pid: ns.pid, compress: 'auto', filter: [] }));
    assert.equal(parseAgentError(r.stderr)?.code, 'NO_COMPRESSOR', r.stderr);
    assert.match(r.stderr, /no zstd or gzip in the debug image/);
  });
});

/** ICMP packets (requests and replies) in a compressed stream cut anywhere, by the test's pcap reader. */
function icmpPairsSoFar(bytes: Buffer): number {
  if (bytes.length < 4) return 0;
  const pcap = decompress(bytes);
  return pcap.length < 24 ? 0 : Math.floor(readPcap(pcap).records.length / 2);
}
