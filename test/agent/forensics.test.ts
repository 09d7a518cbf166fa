// `scan`, `netinfo` and `capture --host-side` on real kernel objects: a namespace with no process
// left, held only by a bind mount inside another process's private mount namespace, with
// an address on a veth into a test bridge; namespaces under /run/docker/netns and /run/netns/cni-*
// paths; a libcni cache entry; a "pod" process in a kubelet-style cgroup. The agent's output goes
// through the real parsers and table builder (what `ls` and `whohas` print), under busybox sh with
// image-like tools and under dash.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { captureArgv, netinfoArgv, parseAgentError, scanArgv } from '../../src/node/agent.ts';
import { matchingAddresses, parseAddressQuery } from '../../src/node/address-match.ts';
import { buildNetnsTable, hostPeers, type NetnsEntry, type PodRef } from '../../src/node/netns-table.ts';
import { parseNetinfo } from '../../src/node/netinfo.ts';
import { parseScan, type ScanFacts } from '../../src/node/scan.ts';
import { readCapture } from '../helpers/pcap/reader.ts';
import { summarize } from '../helpers/pcap/packets.ts';
import {
  cniCacheEntry,
  createBridge,
  holdInPrivateMountNs,
  killAndWait,
  manyProcesses,
  mountNetnsAt,
  netnsProcess,
  testAddress,
  vethInto,
  type HeldNetns,
} from '../helpers/forensics.ts';
import {
  cleanupAll,
  containerId,
  createNetns,
  moveToCgroup,
  netnsInodeOf,
  onCleanup,
  podUid,
  prerequisiteSkip,
  rand,
  runAgent,
  shells,
  spawnInNetns,
  startAgent,
  tool,
  track,
  waitInNetns,
  type TestNetns,
} from '../helpers/netns.ts';

const skip = prerequisiteSkip(['ip', 'nsenter', 'unshare', 'mount', 'tcpdump', 'busybox', 'dash']);

interface Scenario {
  bridge: string;
  /** Orphaned: no process, only a mount in a private mount namespace; an address on a veth. */
  orphan: HeldNetns & { nsIf: string; addr: string; hostIf: string };
  /**
   * Mounted at /run/docker/netns/knt-*, no process; a libcni cache entry names its pod: what a
   * dockershim/cri-dockerd node leaves, which cannot be had here (no cri-dockerd). A plain Docker
   * engine's own leftover, without the CNI cache, is made for real in docker.test.ts.
   */
  docker: { inode: string; path: string; pod: PodRef };
  /** `ip netns add cni-knt-*` with a process in a kubelet-style cgroup of pod `uid`. */
  cni: { inode: string; path: string; pid: number; pod: PodRef; containerId: string };
  /** A process in a systemd-driver cgroup v2 path (kubepods-…-pod<uid_>.slice/cri-containerd-<id>.scope). */
  systemd: { pid: number; uid: string; containerId: string };
}

async function buildScenario(): Promise<Scenario> {
  const bridge = createBridge();

  const o = await netnsProcess();
  const addr = testAddress();
  const nsIf = `knt-${rand(2)}o`;
  const { hostIf } = vethInto(o.pid, nsIf, addr, bridge);
  // A space in the path: mountinfo writes it as \040, and the agent must still enter it.
  const held = await holdInPrivateMountNs(o.pid, 'net ns');
  await killAndWait(o.child);

  const d = await netnsProcess();
  const dockerPath = mountNetnsAt('/run/docker/netns', d.pid);
  await killAndWait(d.child);
  const dockerPod: PodRef = { namespace: 'shop', name: `gone-${rand()}`, uid: podUid(), containerIds: [] };
  cniCacheEntry({
    sandbox: dockerPath,
    namespace: dockerPod.namespace,
    name: dockerPod.name,
    uid: dockerPod.uid,
    ip: testAddress(),
    containerId: containerId(),
  });

  const name = `cni-knt-${rand()}`;
  execFileSync('ip', ['netns', 'add', name]);
  onCleanup(() => {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // gone
    }
  });
  const sleeper = spawnInNetns(name, ['sleep', '600']);
  const cniInode = await waitInNetns(sleeper, name);
  const uid = podUid();
  const cid = containerId();
  moveToCgroup(sleeper.pid!, 'pids', `kubepods/besteffort/pod${uid}/${cid}`);

  const v2 = await netnsProcess();
  const v2uid = podUid();
  const v2cid = containerId();
  moveToCgroup(
    v2.pid,
    'unified',
    `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${v2uid.replaceAll('-', '_')}.slice/cri-containerd-${v2cid}.scope`,
  );
  return {
    systemd: { pid: v2.pid, uid: v2uid, containerId: v2cid },
    bridge,
    orphan: { ...held, nsIf, addr, hostIf },
    docker: { inode: readInode(dockerPath), path: dockerPath, pod: dockerPod },
    cni: {
      inode: cniInode,
      path: `/run/netns/${name}`,
      pid: sleeper.pid!,
      pod: { namespace: 'shop', name: 'web-1', uid, containerIds: [cid] },
      containerId: cid,
    },
  };
}

function readInode(path: string): string {
  return execFileSync('stat', ['-L', '-c', '%i', path], { encoding: 'utf8' }).trim();
}

function entry(entries: NetnsEntry[], inode: string): NetnsEntry {
  const e = entries.find((x) => x.inode === inode);
  assert.ok(e, `netns ${inode} not listed; listed: ${entries.map((x) => x.inode).join(' ')}`);
  return e;
}

// One top-level suite: shells() makes the busybox PATH directory, which cleanupAll() removes.
describe('agent forensics', { skip, concurrency: false, timeout: 600_000 }, () => {
  const SHELLS = shells();
  after(cleanupAll);

  describe('scan (ls, whohas)', () => {
    let s: Scenario;
    before(async () => {
      s = await buildScenario();
    });

    for (const shell of SHELLS) {
      describe(shell.name, () => {
        let facts: ScanFacts;
        let scanText = '';
        before(async () => {
          const r = await runAgent(shell, scanArgv(), { timeoutMs: 60_000 });
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stderr, '', 'scan writes nothing on stderr when all goes well');
          scanText = r.stdout.toString();
          facts = parseScan(scanText);
        });

        test("every record is well formed, and the node is the test's own namespaces", () => {
          for (const line of scanText.trimEnd().split('\n')) {
            assert.match(line, /^(self|host|proc|mount|file|cni|ipaddr|warn|done)\t/, line.slice(0, 120));
          }
          assert.equal(facts.self.netns, netnsInodeOf(process.pid));
          assert.equal(
            facts.host?.netns,
            netnsInodeOf(process.pid),
            'kthreadd (PID 1 is unreadable here) is in the root namespace',
          );
          assert.ok(facts.procs.length > 50, `${facts.procs.length} processes`);
          assert.deepEqual(
            facts.warnings.filter((w) => !/cannot read the interfaces/.test(w)),
            [],
          );
        });

        test("orphaned: no process, kept only by the mount in the holder's mount namespace, which the node's mount table lacks", () => {
          const mine = facts.mounts.filter((m) => m.netns === s.orphan.inode);
          assert.deepEqual(
            mine.map((m) => ({ holder: m.holder, mountpoint: m.mountpoint })),
            [{ holder: s.orphan.holderPid, mountpoint: s.orphan.mountpoint }],
          );
          assert.notEqual(mine[0]!.mntns, facts.host?.mntns);
          assert.ok(!facts.procs.some((p) => p.netns === s.orphan.inode));

          const e = entry(buildNetnsTable(facts, []), s.orphan.inode);
          assert.equal(e.state, 'orphaned');
          assert.deepEqual(e.paths, [`/proc/${s.orphan.holderPid}/root${s.orphan.mountpoint}`]);
          assert.deepEqual(
            e.holders.map((h) => ({ pid: h.pid, comm: h.comm, processes: h.processes })),
            [{ pid: s.orphan.holderPid, comm: 'sleep', processes: 1 }],
          );
          assert.equal(e.procs.length, 0);
          assert.equal(e.owner, undefined);
          const ifs = e.interfaces?.find((i) => i.name === s.orphan.nsIf);
          assert.deepEqual(
            ifs?.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefixlen}`),
            [`${s.orphan.addr}/24`],
          );
          // The enter command really enters it, from the node's mount namespace.
          assert.equal(e.enter, `nsenter --net='/proc/${s.orphan.holderPid}/root${s.orphan.mountpoint}'`);
          const seen = tool('sh', ['-c', `${e.enter} ip -o -4 addr show dev ${s.orphan.nsIf}`]);
          assert.match(seen, new RegExp(`inet ${s.orphan.addr.replace(/\./g, '\\.')}/24`));
        });

        test('whohas: the address is found in the orphaned namespace, and only there', () => {
          const q = parseAddressQuery(s.orphan.addr);
          const hits = buildNetnsTable(facts, []).flatMap((e) =>
            matchingAddresses(e.interfaces ?? [], q).map((m) => ({ inode: e.inode, state: e.state, iface: m.iface })),
          );
          assert.deepEqual(hits, [{ inode: s.orphan.inode, state: 'orphaned', iface: s.orphan.nsIf }]);
          const subnet = parseAddressQuery(`${s.orphan.addr.split('.').slice(0, 3).join('.')}.0/24`);
          assert.ok(
            buildNetnsTable(facts, []).some(
              (e) => e.inode === s.orphan.inode && matchingAddresses(e.interfaces ?? [], subnet).length === 1,
            ),
          );
        });

        test("the veth's host side: the right interface, on the test bridge", () => {
          const peers = hostPeers(facts, s.orphan.inode);
          const hostIndex = Number(tool('cat', [`/sys/class/net/${s.orphan.hostIf}/ifindex`]).trim());
          assert.deepEqual(peers.get(s.orphan.nsIf), { name: s.orphan.hostIf, index: hostIndex, master: s.bridge });
        });

        test("a /run/docker/netns file with no process: orphaned, and stale once libcni's cache names a pod the API lacks", () => {
          assert.ok(
            facts.files.some((f) => f.path === s.docker.path && f.netns === s.docker.inode),
            JSON.stringify(facts.files),
          );
          const cni = facts.cni.find((c) => c.sandboxes.includes(s.docker.path));
          assert.equal(cni?.podName, s.docker.pod.name);
          const stale = entry(buildNetnsTable(facts, []), s.docker.inode);
          assert.equal(stale.state, 'stale');
          assert.deepEqual(stale.owner, {
            namespace: 'shop',
            name: s.docker.pod.name,
            uid: s.docker.pod.uid,
            source: 'cni',
            inApi: false,
          });
          assert.ok(stale.paths.includes(s.docker.path));
          const alive = entry(buildNetnsTable(facts, [s.docker.pod]), s.docker.inode);
          assert.equal(alive.state, 'orphaned', 'its pod exists, but no process is left in the namespace');
        });

        test('pod UID and container id from a systemd-driver cgroup v2 path', () => {
          const p = facts.procs.find((x) => x.pid === s.systemd.pid);
          assert.deepEqual([p?.podUid, p?.containerId], [s.systemd.uid, s.systemd.containerId]);
        });

        test('a /run/netns/cni-* namespace with a process in a kubelet pod cgroup: pod when the API has the pod, stale when not', () => {
          const proc = facts.procs.find((p) => p.pid === s.cni.pid);
          // `ip netns exec` gives its command a mount namespace of its own (to remount /sys).
          const mntns = execFileSync('stat', ['-L', '-c', '%i', `/proc/${s.cni.pid}/ns/mnt`], {
            encoding: 'utf8',
          }).trim();
          assert.deepEqual(proc, {
            pid: s.cni.pid,
            netns: s.cni.inode,
            mntns,
            comm: 'sleep',
            podUid: s.cni.pod.uid,
            containerId: s.cni.containerId,
          });
          const e = entry(buildNetnsTable(facts, [s.cni.pod]), s.cni.inode);
          assert.equal(e.state, 'pod');
          assert.ok(e.paths.includes(s.cni.path), JSON.stringify(e.paths));
          assert.deepEqual(e.owner, {
            namespace: 'shop',
            name: 'web-1',
            uid: s.cni.pod.uid,
            source: 'cgroup',
            inApi: true,
          });
          assert.equal(e.enter, `nsenter -t ${s.cni.pid} -n`);
          assert.equal(entry(buildNetnsTable(facts, []), s.cni.inode).state, 'stale');
        });
      });
    }
  });

  describe('netinfo and capture --host-side', () => {
    let ns: TestNetns;
    before(async () => {
      ns = await createNetns();
    });

    for (const shell of SHELLS) {
      describe(shell.name, () => {
        test('netinfo: the routes of the namespace, and a listening socket with its process', async () => {
          const port = String(20000 + Math.floor(Math.random() * 20000));
          const listener = spawnInNetns(ns.name, ['busybox', 'nc', '-l', '-p', port]);
          try {
            await new Promise((r) => setTimeout(r, 300));
            const r = await runAgent(shell, netinfoArgv({ pid: ns.pid, sockets: true }));
            assert.equal(r.code, 0, r.stderr);
            const info = parseNetinfo(r.stdout.toString(), true);
            assert.ok(
              info.routes.some((x) => x.family === 4 && x.dev === ns.nsIf && x.scope === 'link'),
              JSON.stringify(info.routes),
            );
            const sock = info.sockets?.find((x) => x.local.endsWith(`:${port}`));
            assert.equal(sock?.netid, 'tcp');
            assert.equal(sock?.state, 'LISTEN');
            assert.deepEqual(
              sock?.processes.map((p) => p.pid),
              [listener.pid],
            );
          } finally {
            listener.kill('SIGKILL');
          }
        });

        test('capture --host-side: tcpdump on the root-namespace end of the veth records the pings', async () => {
          const agent = startAgent(shell, captureArgv({ pid: ns.pid, hostSide: true, count: 6, filter: ['icmp'] }));
          const line = await agent.waitForStderr(/^kubectl-netns-agent: info: host side of /);
          assert.equal(
            line,
            `kubectl-netns-agent: info: host side of eth0 (netns ${ns.inode}, pid ${ns.pid}) is ${ns.hostIf} (no bridge)`,
          );
          await agent.waitForStderr(
            new RegExp(`^kubectl-netns-agent: info: capturing on ${ns.hostIf} in netns ${netnsInodeOf(process.pid)} `),
          );
          await agent.waitForStderr(/^tcpdump: listening on /);
          tool('busybox', ['ping', '-c', '3', '-i', '0.2', '-W', '2', ns.nsAddr]);
          const r = await agent.done;
          assert.equal(r.code, 0, r.stderr);
          const cap = readCapture(r.stdout);
          const sum = summarize(
            cap.packets,
            cap.interfaces.map((i) => i.linkType),
          );
          assert.equal(sum.protocols.icmp, 6, JSON.stringify(sum.protocols));
        });

        test('capture --host-side on an interface without a peer elsewhere (lo) fails with NO_PEER', async () => {
          const r = await runAgent(shell, captureArgv({ pid: ns.pid, hostSide: true, iface: 'lo', filter: [] }));
          assert.equal(r.code, 76, r.stderr);
          assert.equal(parseAgentError(r.stderr)?.code, 'NO_PEER');
        });
      });
    }
  });

  describe('scan on a busy node', () => {
    test("a namespace whose lowest PID comes and goes (PIDs wrapped; a probe's or inspect's exec): its interfaces are still read", async () => {
      const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
      // The long-lived process high, the passers-by low: after a wrap, the lowest PID is the newest.
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(pidMax - 3000));
      const ns = await createNetns();
      assert.ok(ns.pid > 21_000, `the sleeper got PID ${ns.pid}`);
      // Bounded: at most 1500 passers-by of 20 ms, each at a new low PID, so none is found again by chance.
      const passers = track(
        spawn(
          'sh',
          [
            '-c',
            'i=0; while [ $i -lt 1500 ]; do echo $((400 + i * 37 % 20000)) >/proc/sys/kernel/ns_last_pid; nsenter --net="$1" sleep 0.02; i=$((i + 1)); done',
            'sh',
            `/run/netns/${ns.name}`,
          ],
          { stdio: 'ignore' },
        ),
      );
      try {
        for (const shell of SHELLS) {
          for (let i = 0; i < 6; i++) {
            // What inspect asks for: this namespace (and the node's).
            const r = await runAgent(shell, scanArgv({ netns: [ns.inode] }), { timeoutMs: 60_000 });
            assert.equal(r.code, 0, r.stderr);
            const facts = parseScan(r.stdout.toString());
            const lowest = Math.min(...facts.procs.filter((p) => p.netns === ns.inode).map((p) => p.pid));
            const eth0 = facts.interfaces.get(ns.inode)?.find((x) => x.name === ns.nsIf);
            assert.deepEqual(
              eth0?.addresses.filter((a) => a.family === 'inet').map((a) => `${a.address}/${a.prefixlen}`),
              [`${ns.nsAddr}/30`],
              `${shell.name}, scan ${i + 1}: lowest PID listed ${lowest} (sleeper ${ns.pid}); ${facts.warnings.join('; ')}`,
            );
          }
        }
      } finally {
        passers.kill('SIGKILL');
      }
    });

    test('2000 extra processes and 40 extra namespaces: every one seen, in bounded time', async (t) => {
      const stop = await manyProcesses(2000);
      const extra: string[] = [];
      for (let i = 0; i < 40; i++) extra.push((await netnsProcess()).inode);
      try {
        for (const shell of SHELLS) {
          const started = Date.now();
          const r = await runAgent(shell, scanArgv(), { timeoutMs: 120_000 });
          const ms = Date.now() - started;
          assert.equal(r.code, 0, r.stderr);
          const facts = parseScan(r.stdout.toString());
          t.diagnostic(
            `${shell.name}: scan of ${facts.procs.length} processes, ${facts.namespaces} network namespaces: ${ms} ms`,
          );
          assert.ok(facts.procs.length >= 2000, `${facts.procs.length} processes`);
          for (const inode of extra) assert.ok(facts.interfaces.has(inode), `netns ${inode} was not entered`);
          assert.ok(ms < 30_000, `scan took ${ms} ms`);
        }
      } finally {
        stop();
      }
    });
  });
});
