// inspect, ls, whohas, capture --host-side and shell against the real local cluster, through the
// real plugin executable, on EVERY node of the cluster: the same tests for each node flavour
// (containerd 2 on a bridge, CRI-O, a routed bridgeless ptp CNI, dual-stack; see
// docs/local-cluster.md). The leftover case is made the way it happens on real nodes: the pod's
// network namespace is bind-mounted inside a private mount namespace that only a `sleep` of this
// test holds (inside the node's own PID and mount namespaces), its eth0 renamed (so the CNI plugin's
// DEL, which deletes eth0, leaves the address behind, as real CNI plugins have done), then the pod is
// deleted. Everything is undone in `after`, also on failure. Traffic goes only from this machine
// (or a node's own network namespace) to our own pods.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clusterNodes,
  createNamespace,
  debugPods,
  deleteNamespace,
  ensureCluster,
  httpGet,
  KUBECONFIG,
  kubectl,
  kubectlJson,
  nodePath,
  onNode,
  readyNodes,
  runPod,
  runtimeScheme,
  waitFor,
  type ClusterNode,
} from '../helpers/cluster.ts';
import { holdInPrivateMountNs, type HeldNetns } from '../helpers/forensics.ts';
import { cleanupAll, isAlive, netnsInodeOf, prerequisiteSkip } from '../helpers/netns.ts';
import { collect, DEBUG_IMAGE, PLUGIN, runPlugin, startPlugin, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import { checkShape, documentedShape } from '../helpers/shape.ts';
import { readCapture } from '../helpers/pcap/reader.ts';
import { summarize } from '../helpers/pcap/packets.ts';
import { ExitCode } from '../../src/errors.ts';
import { cell, LS_COLUMNS, columnsFor, type NetnsList, type WhoHasResult } from '../../src/output/netns-views.ts';
import type { InspectReport } from '../../src/output/inspect-view.ts';

const skip = ensureCluster() || prerequisiteSkip(['unshare', 'nsenter', 'script', 'ip', 'tcpdump', 'curl']);
const env = { KUBECONFIG };
const dir = mkdtempSync(join(tmpdir(), 'knetns-e2e-forensics-'));
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The pod's first process in its network namespace, found the way an admin would: its cgroup. The
 * sandbox (pause) where there is one; CRI-O drops it for pods that share no PID namespace, and then
 * it is the lowest container process (never conmon, CRI-O's monitor, which sits in the pod's cgroup
 * but in the node's network namespace).
 */
function podPid(uid: string): number {
  const found: Array<{ pid: number; comm: string }> = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm !== 'conmon' && readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`pod${uid}`))
        found.push({ pid: Number(pid), comm });
    } catch {
      // exited meanwhile
    }
  }
  found.sort((a, b) => (a.comm === 'pause' ? -1 : b.comm === 'pause' ? 1 : a.pid - b.pid));
  if (!found[0]) throw new Error(`no process of pod ${uid}`);
  return found[0].pid;
}

/** Output of ARGV run on NODE (its network and mount namespaces). */
function onNodeOut(node: ClusterNode, argv: string[]): string {
  const [file, ...args] = onNode(node, argv);
  return execFileSync(file!, args, { encoding: 'utf8' });
}

async function json<T>(args: string[], expectCode = 0): Promise<T> {
  const r = await runPlugin(args, { env });
  assert.equal(r.code, expectCode, r.stderr);
  return JSON.parse(r.stdout.toString()) as T;
}

/** HTTP GETs to the pod's IPv6 address, from the node's own network namespace (node 1 has no IPv6). */
function curl6(node: ClusterNode, ip6: string, path: string): void {
  execFileSync('nsenter', [
    '-t',
    String(node.initPid),
    '-n',
    '--',
    'curl',
    '-gsS',
    '--max-time',
    '5',
    '-o',
    '/dev/null',
    `http://[${ip6}]:8080${path}`,
  ]);
}

// One describe per node, the same tests in each. The list is what up.sh made (nodes.json).
for (const node of skip ? [undefined] : clusterNodes()) {
  const title = node ? `${node.name} (${node.flavour})` : 'no cluster';
  describe(`forensics on ${title}: inspect, ls, whohas, capture --host-side, shell`, { skip, timeout: 900_000 }, () => {
    if (!node) return;
    const ns = `e2e-forensics-${node.number}-${process.pid}`;
    const base = ['-n', ns, '--image', DEBUG_IMAGE];
    let web: any;
    let ip6 = '';
    before(async () => {
      await createNamespace(ns);
      web = await runPod(ns, 'web', WEB_IMAGE, { nodeName: node.name });
      ip6 = (web.status.podIPs as Array<{ ip: string }>).map((p) => p.ip).find((ip) => ip.includes(':')) ?? '';
      assert.equal(Boolean(ip6), node.dualStack, `podIPs ${JSON.stringify(web.status.podIPs)}`);
    });
    after(async () => {
      cleanupAll();
      await deleteNamespace(ns);
    });

    test("inspect matches kubectl get pod -o wide, the pod's own ip -j addr, and the node's view of its veth", async () => {
      const r = await json<InspectReport>(['inspect', 'web', ...base, '-o', 'json']);
      checkShape(r, documentedShape('NetnsInspect'));
      const wide = kubectl(['get', 'pod', 'web', '-n', ns, '-o', 'wide', '--no-headers']).trim().split(/\s+/);
      // NAME READY STATUS RESTARTS AGE IP NODE ...
      assert.equal(r.pod.ip, wide[5]);
      assert.equal(r.node, wide[6]);
      assert.equal(r.node, node.name);
      assert.equal(r.pod.uid, web.metadata.uid);
      assert.deepEqual(
        r.pod.ips,
        web.status.podIPs.map((p: { ip: string }) => p.ip),
      );
      assert.equal(r.runtime, runtimeScheme(node));

      const own = await runPlugin(['exec', 'web', ...base, '--', 'ip', '-j', 'addr'], { env });
      assert.equal(own.code, 0, own.stderr);
      const links = JSON.parse(own.stdout.toString()) as Array<{
        ifindex: number;
        ifname: string;
        address: string;
        mtu: number;
        addr_info: Array<{ local: string; prefixlen: number }>;
      }>;
      assert.deepEqual(
        r.interfaces.map((i) => ({ name: i.name, index: i.index, mac: i.mac, mtu: i.mtu, addresses: i.addresses })),
        links.map((l) => ({
          name: l.ifname,
          index: l.ifindex,
          mac: l.address,
          mtu: l.mtu,
          addresses: l.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
        })),
      );

      // The host side, checked on the node itself: a port of the node's bridge, or of none (routed).
      const eth0 = r.interfaces.find((i) => i.name === 'eth0');
      assert.ok(eth0?.hostPeer, JSON.stringify(eth0));
      const host = JSON.parse(onNodeOut(node, ['ip', '-j', 'link', 'show', 'dev', eth0.hostPeer.name]))[0];
      assert.equal(host.ifindex, eth0.hostPeer.index);
      assert.equal(host.master ?? null, node.bridge);
      assert.equal(eth0.hostPeer.bridge, node.bridge);
      if (node.cni === 'ptp') {
        // Routed: the node reaches the pod by a /32 route on that veth, the pod its link-local gateway.
        const routes = JSON.parse(onNodeOut(node, ['ip', '-j', 'route', 'show', 'dev', eth0.hostPeer.name]));
        assert.ok(
          routes.some((x: { dst: string }) => x.dst === r.pod.ip),
          JSON.stringify(routes),
        );
        assert.ok(r.routes.some((x) => x.gateway === node.gateway && x.dev === 'eth0'));
        assert.ok(r.routes.some((x) => x.dst === node.gateway && x.scope === 'link'));
      } else {
        assert.ok(r.routes.some((x) => x.dst === node.podCIDR && x.dev === 'eth0' && x.prefsrc === r.pod.ip));
      }
      if (node.dualStack) {
        assert.ok(eth0.addresses.includes(`${ip6}/64`), JSON.stringify(eth0.addresses));
        assert.ok(r.routes.some((x) => x.family === 6 && x.dev === 'eth0' && x.dst !== 'fe80::/64'));
      } else {
        assert.ok(r.routes.every((x) => x.family === 4 || x.dst.startsWith('fe80')));
      }

      // PIDs and the namespace, checked against /proc and the nsfs path.
      const first = podPid(web.metadata.uid);
      if (r.sandbox.pid !== null) assert.equal(readFileSync(`/proc/${first}/comm`, 'utf8').trim(), 'pause');
      else assert.equal(node.runtime, 'crio', 'only CRI-O drops the sandbox (pause) process');
      assert.equal(String(r.netns.inode), netnsInodeOf(first));
      const main = r.containers.find((c) => c.name === 'main')!;
      assert.equal(main.id, web.status.containerStatuses[0].containerID.replace(/^[a-z-]+:\/\//, ''));
      assert.ok(main.pid, JSON.stringify(main));
      assert.equal(r.netns.state, 'pod');
      assert.match(r.netns.enter, /^nsenter -t \d+ -n$/);
      assert.equal(statSync(nodePath(node, r.netns.paths[0]!)).ino, r.netns.inode);
      assert.ok(
        r.sockets?.some((s) => s.local === '*:8080' && s.processes.some((p) => p.command === 'httpd')),
        JSON.stringify(r.sockets),
      );
      assert.deepEqual(debugPods(ns), []);

      const text = await runPlugin(['inspect', 'web', ...base, '-o', 'wide'], { env });
      assert.equal(text.code, 0, text.stderr);
      const out = text.stdout.toString();
      if (node.dualStack) assert.match(out, new RegExp(`^Pod IPs: +${esc(r.pod.ip)}, ${esc(ip6)}$`, 'm'));
      else assert.match(out, new RegExp(`^Pod IP: +${esc(r.pod.ip)}$`, 'm'));
      assert.match(
        out,
        new RegExp(`^eth0 .* ${eth0.hostPeer.name} +${eth0.hostPeer.index} +${node.bridge ?? 'no bridge'}$`, 'm'),
      );
      assert.match(out, /^Listening sockets:\nPROTO/m);
      assert.doesNotMatch(out, /\x1b\[/, 'plain when piped');
    });

    test('ls NODE -o json: every running pod on the node, as "pod", with its namespace/name; the table shows the same', async (t) => {
      const running = () =>
        new Map(
          (
            kubectlJson(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${node.name},status.phase=Running`])
              .items as any[]
          )
            .filter((p) => !p.spec.hostNetwork && !p.metadata.deletionTimestamp)
            .map((p) => [p.metadata.uid as string, `${p.metadata.namespace}/${p.metadata.name}`]),
        );
      const beforeLs = running();
      const started = Date.now();
      const list = await json<NetnsList>(['ls', node.name, ...base, '-o', 'json']);
      const ms = Date.now() - started;
      const afterLs = running();
      checkShape(list, documentedShape('NetnsList'));
      // Pods other tests start or stop meanwhile are only checked if they ran throughout.
      const stable = [...beforeLs].filter(([uid]) => afterLs.has(uid));
      assert.ok(stable.some(([, name]) => name === `${ns}/web`));
      for (const [uid, name] of stable) {
        const item = list.items.find((i) => i.pod?.uid === uid);
        assert.ok(item, `pod ${name} (${uid}) missing from ls`);
        assert.equal(item.state, 'pod');
        assert.equal(`${item.pod?.namespace}/${item.pod?.name}`, name);
        // The sandbox and the container; a CRI-O pod without a sandbox process has its container.
        assert.ok(item.processes >= (node.runtime === 'crio' ? 1 : 2), `${name}: ${item.processes} processes`);
      }
      const host = list.items.filter((i) => i.state === 'host');
      assert.equal(host.length, 1);
      assert.ok(host[0]!.ipv4.includes(node.ip), 'the node holds its own address');
      assert.ok(host[0]!.ipv4.includes(node.gateway), `the node holds the pods' gateway ${node.gateway}`);
      const mine = list.items.find((i) => i.pod?.name === 'web' && i.pod.namespace === ns)!;
      assert.deepEqual(mine.ipv4, [web.status.podIP]);
      if (node.dualStack) assert.ok(mine.ipv6.includes(ip6), JSON.stringify(mine.ipv6));
      t.diagnostic(
        `ls ${node.name}: ${list.items.length} namespaces in ${ms} ms (debug pod start and deletion included)`,
      );

      // -o wide renders the same fields: the row of our pod, cell by cell.
      const wide = await runPlugin(['ls', node.name, ...base, '-o', 'wide'], { env });
      assert.equal(wide.code, 0, wide.stderr);
      const lines = wide.stdout.toString().trimEnd().split('\n');
      const headers = lines[0]!.trim().split(/\s{2,}/);
      assert.deepEqual(
        headers,
        columnsFor(LS_COLUMNS, 'wide').map((c) => c.header),
      );
      const row = lines
        .find((l) => l.includes(`${ns}/web `))!
        .trim()
        .split(/\s{2,}/);
      assert.deepEqual(
        row,
        columnsFor(LS_COLUMNS, 'wide').map((c) => String(cell(mine, c))),
      );

      // TARGET means its node; --node is the same as NODE.
      const viaPod = await json<NetnsList>(['ls', 'web', ...base, '-o', 'json']);
      assert.ok(viaPod.items.some((i) => i.inode === mine.inode && i.state === 'pod'));
      const viaFlag = await json<NetnsList>(['ls', '--node', node.name, ...base, '-o', 'json']);
      assert.ok(viaFlag.items.some((i) => i.inode === mine.inode));
      assert.deepEqual(debugPods(ns), []);
    });

    describe('a pod whose network namespace is left behind (it pings, but nothing answers on the port)', () => {
      let held: HeldNetns;
      let oldIP = '';
      let inode = '';
      before(async () => {
        const victim = await runPod(ns, 'victim', WEB_IMAGE, { nodeName: node.name });
        oldIP = victim.status.podIP;
        const first = podPid(victim.metadata.uid);
        inode = netnsInodeOf(first);
        // CNI DEL deletes the interface named eth0: renamed, it survives with the pod's address.
        const inNs = (...args: string[]) =>
          execFileSync('nsenter', ['-t', String(first), '-n', 'ip', ...args], { stdio: 'ignore' });
        inNs('link', 'set', 'eth0', 'down');
        inNs('link', 'set', 'eth0', 'name', 'knt-leak0');
        inNs('link', 'set', 'knt-leak0', 'up');
        held = await holdInPrivateMountNs(first, 'net', node.initPid ?? undefined);
        kubectl(['delete', 'pod', 'victim', '-n', ns, '--grace-period=0', '--wait=true'], { timeoutMs: 120_000 });
        await waitFor('the pod to exit', async () => (isAlive(first) ? undefined : true), 60_000);
      });
      after(() => {
        // The holder is the last reference: killing it frees the namespace and its veth.
        cleanupAll();
      });

      test("ls lists it as orphaned (no process) or stale, kept by the mount in the holder's mount namespace", async () => {
        const list = await json<NetnsList>(['ls', node.name, ...base, '-o', 'json']);
        const item = list.items.find((i) => String(i.inode) === inode);
        const holderMounts = (() => {
          try {
            return execFileSync('grep', ['nsfs', `/proc/${held.rootPid}/mountinfo`], { encoding: 'utf8' });
          } catch (e) {
            return String(e);
          }
        })();
        assert.ok(
          item,
          `netns ${inode} not listed; the holder (pid ${held.holderPid} on the node, ${held.rootPid} here) has ${holderMounts}; listed: ${JSON.stringify(list.items.map((i) => [i.inode, i.state, i.paths]))}`,
        );
        assert.ok(item.state === 'orphaned' || item.state === 'stale', item.state);
        assert.equal(item.processes, 0);
        assert.ok(item.paths.includes(`/proc/${held.holderPid}/root${held.mountpoint}`), JSON.stringify(item.paths));
        assert.deepEqual(
          item.holders.map((h) => [h.pid, h.command]),
          [[held.holderPid, 'sleep']],
        );
        assert.deepEqual(item.ipv4, [oldIP]);
        // The printed way in works on the node.
        const seen = onNodeOut(node, ['sh', '-c', `${item.enter} ip -o -4 addr show dev knt-leak0`]);
        assert.ok(seen.includes(`inet ${oldIP}/`), seen);
      });

      test('whohas finds its old IP on every node (the default) and names it orphaned/stale; exit 0', async () => {
        const r = await runPlugin(['whohas', oldIP, ...base, '-o', 'json'], { env });
        assert.equal(r.code, 0, r.stderr);
        const result = JSON.parse(r.stdout.toString()) as WhoHasResult;
        checkShape(result, documentedShape('WhoHas'));
        assert.deepEqual(result.nodes, readyNodes());
        // Node 1 is this machine and sees the namespaces of the nodes nested in it too: only the same inode.
        const hits = result.items.filter((i) => i.node === node.name);
        assert.equal(hits.length, 1, JSON.stringify(result.items));
        assert.ok(
          result.items.every((i) => String(i.inode) === inode),
          JSON.stringify(result.items),
        );
        const hit = hits[0]!;
        assert.ok(hit.state === 'orphaned' || hit.state === 'stale');
        assert.deepEqual(
          hit.matches.map((m) => m.interface),
          ['knt-leak0'],
        );
        assert.match(
          r.stderr,
          new RegExp(`${esc(oldIP)} is held by (an orphaned|a stale) namespace .*pid ${held.holderPid} \\(sleep\\)`),
        );

        const table = await runPlugin(['whohas', oldIP, '--node', node.name, ...base], { env });
        assert.equal(table.code, 0, table.stderr);
        assert.match(table.stdout.toString(), new RegExp(`^${node.name} +${inode} +(orphaned|stale) `, 'm'));
        assert.deepEqual(debugPods(ns), []);
      });

      test('whohas of an address nobody holds: exit 4, nothing on stdout (table) and an empty list (json)', async () => {
        const none = await runPlugin(['whohas', '10.232.255.254', '--node', node.name, ...base], { env });
        assert.equal(none.code, ExitCode.notFound, none.stderr);
        assert.equal(none.stdout.length, 0);
        assert.match(none.stderr, /no network namespace on 1 node\(s\) holds 10\.232\.255\.254/);
        const j = await runPlugin(['whohas', '10.232.255.254', '--node', node.name, ...base, '-o', 'json'], { env });
        assert.equal(j.code, ExitCode.notFound);
        assert.deepEqual((JSON.parse(j.stdout.toString()) as WhoHasResult).items, []);
      });
    });

    test("capture --host-side records HTTP to the pod on the node's end of its veth", async () => {
      const file = join(dir, `host-side-${node.number}.pcap`);
      const r0 = await json<InspectReport>(['inspect', 'web', ...base, '-o', 'json']);
      const veth = r0.interfaces.find((i) => i.name === 'eth0')!.hostPeer!.name;
      const child = startPlugin(
        ['capture', 'web', ...base, '--host-side', '-o', file, '--duration', '6s', '--', 'tcp', 'port', '8080'],
        { env },
      );
      const done = collect(child);
      await waitForStderr(child, new RegExp(`capturing on ${veth}`));
      for (let i = 0; i < 3; i++) await httpGet(`http://${web.status.podIP}:8080/index.html?host-side=${i}`);
      const r = await done;
      assert.equal(r.code, 0, r.stderr);
      const cap = readCapture(readFileSync(file));
      const s = summarize(
        cap.packets,
        cap.interfaces.map((i) => i.linkType),
      );
      assert.ok(s.tcpSyns >= 3, `expected >= 3 SYNs, got ${s.tcpSyns}`);
      assert.ok(
        s.httpRequests.some((h) => h.line === 'GET /index.html?host-side=0 HTTP/1.1' && h.dst === web.status.podIP),
        JSON.stringify(s.httpRequests),
      );
      assert.deepEqual(debugPods(ns), []);
    });

    // Declared on dual-stack nodes only: on an IPv4-only node it is not a test to skip, there is none.
    if (node.dualStack)
      test('IPv6 (dual-stack nodes): whohas of the IPv6 address, a capture filtered on ip6, exec of the IPv6 view', async () => {
        const who = await json<WhoHasResult>(['whohas', ip6, '--node', node.name, ...base, '-o', 'json']);
        assert.equal(who.items.length, 1, JSON.stringify(who.items));
        assert.equal(who.items[0]!.pod?.name, 'web');
        assert.equal(who.items[0]!.state, 'pod');

        const file = join(dir, `ip6-${node.number}.pcap`);
        const child = startPlugin(
          ['capture', 'web', ...base, '-o', file, '--duration', '6s', '--', 'ip6', 'and', 'tcp', 'port', '8080'],
          { env },
        );
        const done = collect(child);
        await waitForStderr(child, /capturing on eth0/);
        // IPv4 traffic too: the filter must leave it out.
        await httpGet(`http://${web.status.podIP}:8080/index.html?v4`);
        for (let i = 0; i < 3; i++) curl6(node, ip6, `/index.html?v6=${i}`);
        const r = await done;
        assert.equal(r.code, 0, r.stderr);
        const fields = execFileSync(
          'tshark',
          ['-r', file, '-T', 'fields', '-e', 'ipv6.dst', '-e', 'ip.dst', '-e', 'http.request.uri'],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
          },
        );
        const rows = fields
          .trim()
          .split('\n')
          .map((l) => l.split('\t'));
        assert.ok(rows.length >= 6, fields);
        assert.ok(
          rows.every(([v6, v4]) => v6 && !v4),
          `only IPv6 packets: ${fields}`,
        );
        assert.ok(
          rows.some(([v6, , uri]) => v6 === ip6 && uri === '/index.html?v6=0'),
          fields,
        );

        const addr = await runPlugin(
          ['exec', 'web', ...base, '--', 'ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'],
          { env },
        );
        assert.equal(addr.code, 0, addr.stderr);
        assert.match(addr.stdout.toString(), new RegExp(`inet6 ${esc(ip6)}/64 `));
        assert.deepEqual(debugPods(ns), []);
      });

    test('shell without a terminal: reads commands from stdin, exit code passed on', async () => {
      const r = await runPlugin(['shell', 'web', ...base], {
        env,
        input: 'ip -o -4 addr show dev eth0\necho marker-$((6*7))\nexit 5\n',
      });
      assert.equal(r.code, 5, r.stderr);
      const out = r.stdout.toString();
      assert.ok(out.includes(`inet ${web.status.podIP}/`), out);
      assert.match(out, /^marker-42$/m);
    });

    test("shell on a terminal (script(1) gives it one): a TTY in the pod's namespace and a prompt naming the pod", async () => {
      const child = spawn(
        'script',
        ['-qfec', `${process.execPath} ${PLUGIN} shell web ${base.join(' ')}`, '/dev/null'],
        {
          env: { ...process.env, ...env },
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      try {
        await waitFor('the prompt', async () => (out.includes(`[netns ${ns}/web] # `) ? true : undefined), 60_000, 100);
        child.stdin.write('tty; ip -o -4 addr show dev eth0; echo marker-$((6*7))\n');
        await waitFor('the marker', async () => (/marker-42/.test(out) ? true : undefined), 30_000, 100);
        child.stdin.write('exit 3\n');
        assert.equal(await exited, 3, out);
      } finally {
        child.kill('SIGKILL');
      }
      assert.match(out, /^\/dev\/pts\/\d+\r?$/m, out);
      assert.ok(out.includes(`inet ${web.status.podIP}/`), out);
      assert.deepEqual(debugPods(ns), []);
    });
  });
}

after(() => rmSync(dir, { recursive: true, force: true }));
