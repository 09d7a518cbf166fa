// The agent inside kubectl-netns's own debug image (scripts/debug-image/build.ts, this machine's
// architecture; both architectures' tools are run by the build's --check): every op the commands
// use, against a real network namespace, with only the image's own sh, busybox, nsenter, tcpdump,
// ip, ss and zstd. A tool or a library missing from the image fails here, not in a user's cluster.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import {
  captureArgv,
  execArgv,
  netinfoArgv,
  parseAgentError,
  scanArgv,
  statsArgv,
  stopArgv,
  type CaptureOptions,
} from '../../src/node/agent.ts';
import { parseAddressQuery } from '../../src/node/address-match.ts';
import { parseIpAddr } from '../../src/node/iproute.ts';
import { parseNetinfo } from '../../src/node/netinfo.ts';
import { buildNetnsTable } from '../../src/node/netns-table.ts';
import { parseScan } from '../../src/node/scan.ts';
import { debugImageRootfs, imageShell } from '../helpers/debug-image.ts';
import { readPcap } from '../helpers/pcap/reader.ts';
import {
  cleanupAll,
  createNetns,
  onCleanup,
  prerequisiteSkip,
  rand,
  runAgent,
  spawnInNetns,
  startAgent,
  tempFile,
  tool,
  type TestNetns,
} from '../helpers/netns.ts';

const image = debugImageRootfs();
if (!image.root && process.env.CI === 'true') throw new Error(image.why);
const skip =
  prerequisiteSkip([
    'ip',
    'nsenter',
    'unshare',
    'chroot',
    'busybox',
    'tshark',
    'gzip',
    'zstd',
    'readelf',
    'dpkg-deb',
  ]) || (image.root ? false : image.why!);

function captureId(): string {
  const id = rand(4);
  for (const ext of ['pid', 'stop', 'ack'])
    onCleanup(() => rmSync(`/tmp/kubectl-netns-capture-${id}.${ext}`, { force: true }));
  return id;
}

function ping(addr: string, count: number): void {
  tool('busybox', ['ping', '-c', String(count), '-i', '0.2', '-W', '2', addr]);
}

/** ICMP echo requests and replies in a pcap, by tshark. */
function icmp(pcap: Buffer): number {
  const file = tempFile('c.pcap');
  writeFileSync(file, pcap);
  const out = tool('tshark', ['-r', file, '-Y', 'icmp', '-T', 'fields', '-e', 'icmp.type']).trim();
  return out ? out.split('\n').length : 0;
}

describe('agent in the debug image', { skip, concurrency: false, timeout: 300_000 }, () => {
  const shell = imageShell(image.root ?? '/nonexistent');
  let ns: TestNetns;
  before(async () => {
    ns = await createNetns();
  });
  after(cleanupAll);

  test('capture: tcpdump from the image records the pings (pcap read by our reader and tshark)', async () => {
    const agent = startAgent(shell, captureArgv({ pid: ns.pid, id: captureId(), count: 4, filter: ['icmp'] }));
    await agent.waitForStderr(/^tcpdump: listening on /);
    ping(ns.nsAddr, 2);
    const r = await agent.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /info: capturing on eth0 in netns /);
    assert.equal(readPcap(r.stdout).records.length, 4);
    assert.equal(icmp(r.stdout), 4);
  });

  for (const [compress, magic] of [
    ['auto', '28b52ffd'],
    ['gzip', '1f8b'],
  ] as const) {
    test(`capture --compress ${compress}: ${compress === 'auto' ? "the image's zstd" : "busybox's gzip"}`, async () => {
      const o: CaptureOptions = { pid: ns.pid, id: captureId(), count: 4, filter: ['icmp'], compress };
      const agent = startAgent(shell, captureArgv(o));
      await agent.waitForStderr(/^tcpdump: listening on /);
      ping(ns.nsAddr, 2);
      const r = await agent.done;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.subarray(0, magic.length / 2).toString('hex'), magic);
      const pcap = execFileSync(magic === '1f8b' ? 'gzip' : 'zstd', ['-dc'], { input: r.stdout });
      assert.equal(icmp(pcap), 4);
    });
  }

  test('stats and stop: the counts on demand, then a clean end', async () => {
    const id = captureId();
    const agent = startAgent(shell, captureArgv({ pid: ns.pid, id, filter: ['icmp'] }));
    await agent.waitForStderr(/^tcpdump: listening on /);
    ping(ns.nsAddr, 1);
    assert.equal((await runAgent(shell, statsArgv(id))).code, 0);
    await agent.waitForStderr(/packets? captured/);
    assert.equal((await runAgent(shell, stopArgv(id))).code, 0);
    const r = await agent.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(icmp(r.stdout), 2);
  });

  test("capture --host-side: the image's ip finds the veth's host end", async () => {
    const agent = startAgent(shell, captureArgv({ pid: ns.pid, hostSide: true, count: 4, filter: ['icmp'] }));
    await agent.waitForStderr(new RegExp(`info: host side of eth0 .* is ${ns.hostIf} `));
    await agent.waitForStderr(/^tcpdump: listening on /);
    ping(ns.nsAddr, 2);
    const r = await agent.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(icmp(r.stdout), 4);
  });

  test("exec: the image's iproute2 (JSON), ss and busybox tools in the pod's namespace", async () => {
    const ip = await runAgent(shell, execArgv({ pid: ns.pid, command: ['ip', '-j', '-d', 'addr', 'show'] }));
    assert.equal(ip.code, 0, ip.stderr);
    const eth0 = parseIpAddr(ip.stdout.toString()).find((i) => i.name === 'eth0');
    assert.equal(eth0?.kind, 'veth');
    assert.deepEqual(
      eth0?.addresses.filter((a) => a.family === 'inet').map((a) => a.address),
      [ns.nsAddr],
    );
    const ss = await runAgent(shell, execArgv({ pid: ns.pid, command: ['ss', '-H', '-tuln'] }));
    assert.equal(ss.code, 0, ss.stderr);
    const ping1 = await runAgent(
      shell,
      execArgv({ pid: ns.pid, command: ['ping', '-c', '1', '-W', '2', ns.hostAddr] }),
    );
    assert.equal(ping1.code, 0, ping1.stderr);
  });

  test('netinfo --sockets: routes and a listening socket with its process', async () => {
    const port = String(20000 + Math.floor(Math.random() * 20000));
    const listener = spawnInNetns(ns.name, ['busybox', 'nc', '-l', '-p', port]);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const r = await runAgent(shell, netinfoArgv({ pid: ns.pid, sockets: true }));
      assert.equal(r.code, 0, r.stderr);
      const info = parseNetinfo(r.stdout.toString(), true);
      assert.ok(info.routes.some((x) => x.dev === 'eth0'));
      assert.deepEqual(
        info.sockets?.find((x) => x.local.endsWith(`:${port}`))?.processes.map((p) => p.pid),
        [listener.pid],
      );
    } finally {
      listener.kill('SIGKILL');
    }
  });

  test('scan (ls, whohas): the namespace with its address, from the whole node; --addr enters it', async () => {
    const r = await runAgent(shell, scanArgv(), { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const facts = parseScan(r.stdout.toString());
    const e = buildNetnsTable(facts, []).find((x) => x.inode === ns.inode);
    assert.ok(
      e?.interfaces?.some((i) => i.addresses.some((a) => a.address === ns.nsAddr)),
      JSON.stringify(e),
    );
    const picked = await runAgent(shell, scanArgv({ subnets: parseAddressQuery(ns.nsAddr).subnets }), {
      timeoutMs: 120_000,
    });
    assert.equal(picked.code, 0, picked.stderr);
    assert.ok(parseScan(picked.stdout.toString()).interfaces.has(ns.inode));
  });

  test('a filter tcpdump rejects: BAD_FILTER, with its message', async () => {
    const r = await runAgent(shell, captureArgv({ pid: ns.pid, filter: ['tcp', 'port', 'nope-nope'] }));
    assert.equal(parseAgentError(r.stderr)?.code, 'BAD_FILTER', r.stderr);
  });
});
