// inspect, ls, whohas, capture --host-side and shell against the real local cluster, through the
// real plugin executable. The leftover case is made the way it happens on real nodes: the pod's
// network namespace is bind-mounted inside a private mount namespace that only a `sleep` of this
// test holds, its eth0 renamed (so the CNI plugin's DEL, which deletes eth0, leaves the address
// behind, as real CNI plugins have done), then the pod is deleted. Everything is undone in `after`,
// also on failure. Traffic goes only from the root namespace to our own pods on 10.214.0.0/24.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createNamespace,
  debugPods,
  deleteNamespace,
  ensureCluster,
  httpGet,
  KUBECONFIG,
  kubectl,
  kubectlJson,
  NODE_NAME,
  readyNodes,
  runPod,
  waitFor,
  BRIDGE,
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

const skip = ensureCluster() || prerequisiteSkip(['unshare', 'nsenter', 'script', 'ip', 'tcpdump']);
const ns = `e2e-forensics-${process.pid}`;
const env = { KUBECONFIG };
const base = ['-n', ns, '--image', DEBUG_IMAGE];
const dir = mkdtempSync(join(tmpdir(), 'knetns-e2e-forensics-'));

/** The pod's sandbox (pause) process on this node, found the way an admin would: its cgroup. */
function pausePid(uid: string): number {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'pause') continue;
      if (readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`pod${uid}`)) return Number(pid);
    } catch {
      // exited meanwhile
    }
  }
  throw new Error(`no pause process of pod ${uid}`);
}

async function json<T>(args: string[], expectCode = 0): Promise<T> {
  const r = await runPlugin(args, { env });
  assert.equal(r.code, expectCode, r.stderr);
  return JSON.parse(r.stdout.toString()) as T;
}

describe('forensics: inspect, ls, whohas, capture --host-side, shell', { skip, timeout: 900_000 }, () => {
  let web: any;
  before(async () => {
    await createNamespace(ns);
    web = await runPod(ns, 'web', WEB_IMAGE);
  });
  after(async () => {
    cleanupAll();
    rmSync(dir, { recursive: true, force: true });
    await deleteNamespace(ns);
  });

  test("inspect matches kubectl get pod -o wide, the pod's own ip -j addr, and the node's view of its veth", async () => {
    const r = await json<InspectReport>(['inspect', 'web', ...base, '-o', 'json']);
    checkShape(r, documentedShape('NetnsInspect'));
    const wide = kubectl(['get', 'pod', 'web', '-n', ns, '-o', 'wide', '--no-headers']).trim().split(/\s+/);
    // NAME READY STATUS RESTARTS AGE IP NODE ...
    assert.equal(r.pod.ip, wide[5]);
    assert.equal(r.node, wide[6]);
    assert.equal(r.pod.uid, web.metadata.uid);
    assert.equal(r.runtime, 'containerd');

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

    // The host side, checked on the node itself.
    const eth0 = r.interfaces.find((i) => i.name === 'eth0');
    assert.ok(eth0?.hostPeer, JSON.stringify(eth0));
    const host = JSON.parse(
      execFileSync('ip', ['-j', 'link', 'show', 'dev', eth0.hostPeer.name], { encoding: 'utf8' }),
    )[0];
    assert.equal(host.ifindex, eth0.hostPeer.index);
    assert.equal(host.master, BRIDGE);
    assert.equal(eth0.hostPeer.bridge, BRIDGE);

    // PIDs and the namespace, checked against /proc and the nsfs path.
    assert.equal(readFileSync(`/proc/${r.sandbox.pid}/comm`, 'utf8').trim(), 'pause');
    assert.equal(String(r.netns.inode), netnsInodeOf(r.sandbox.pid!));
    const main = r.containers.find((c) => c.name === 'main')!;
    assert.equal(main.id, web.status.containerStatuses[0].containerID.replace(/^containerd:\/\//, ''));
    assert.ok(readFileSync(`/proc/${main.pid}/cgroup`, 'utf8').includes(main.id!));
    assert.equal(r.netns.state, 'pod');
    assert.equal(r.netns.enter, `nsenter -t ${r.sandbox.pid} -n`);
    assert.equal(statSync(r.netns.paths[0]!).ino, r.netns.inode);
    assert.ok(r.routes.some((x) => x.dst === '10.214.0.0/24' && x.dev === 'eth0' && x.prefsrc === r.pod.ip));
    assert.ok(
      r.sockets?.some((s) => s.local === '*:8080' && s.processes.some((p) => p.command === 'httpd')),
      JSON.stringify(r.sockets),
    );
    assert.deepEqual(debugPods(ns), []);

    const text = await runPlugin(['inspect', 'web', ...base, '-o', 'wide'], { env });
    assert.equal(text.code, 0, text.stderr);
    const out = text.stdout.toString();
    assert.match(out, new RegExp(`^Pod IP: +${r.pod.ip.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(out, new RegExp(`^eth0 .* ${eth0.hostPeer.name} +${eth0.hostPeer.index} +${BRIDGE}$`, 'm'));
    assert.match(out, /^Listening sockets:\nPROTO/m);
    assert.doesNotMatch(out, /\x1b\[/, 'plain when piped');
  });

  test('ls NODE -o json: every running pod on the node, as "pod", with its namespace/name; the table shows the same', async (t) => {
    const running = () =>
      new Map(
        (
          kubectlJson(['get', 'pods', '-A', '--field-selector', `spec.nodeName=${NODE_NAME},status.phase=Running`])
            .items as any[]
        )
          .filter((p) => !p.spec.hostNetwork && !p.metadata.deletionTimestamp)
          .map((p) => [p.metadata.uid as string, `${p.metadata.namespace}/${p.metadata.name}`]),
      );
    const beforeLs = running();
    const started = Date.now();
    const list = await json<NetnsList>(['ls', NODE_NAME, ...base, '-o', 'json']);
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
      assert.ok(item.processes >= 2, `${name}: pause and the container`);
    }
    const host = list.items.filter((i) => i.state === 'host');
    assert.equal(host.length, 1);
    assert.ok(host[0]!.ipv4.includes('10.214.0.1'), 'the node holds the bridge address');
    const mine = list.items.find((i) => i.pod?.name === 'web' && i.pod.namespace === ns)!;
    assert.deepEqual(mine.ipv4, [web.status.podIP]);
    t.diagnostic(
      `ls ${NODE_NAME}: ${list.items.length} namespaces in ${ms} ms (debug pod start and deletion included)`,
    );

    // -o wide renders the same fields: the row of our pod, cell by cell.
    const wide = await runPlugin(['ls', NODE_NAME, ...base, '-o', 'wide'], { env });
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
    const viaFlag = await json<NetnsList>(['ls', '--node', NODE_NAME, ...base, '-o', 'json']);
    assert.ok(viaFlag.items.some((i) => i.inode === mine.inode));
    assert.deepEqual(debugPods(ns), []);
  });

  describe('a pod whose network namespace is left behind (it pings, but nothing answers on the port)', () => {
    let held: HeldNetns;
    let oldIP = '';
    let inode = '';
    before(async () => {
      const victim = await runPod(ns, 'victim', WEB_IMAGE);
      oldIP = victim.status.podIP;
      const pause = pausePid(victim.metadata.uid);
      inode = netnsInodeOf(pause);
      // CNI DEL deletes the interface named eth0: renamed, it survives with the pod's address.
      const inNs = (...args: string[]) =>
        execFileSync('nsenter', ['-t', String(pause), '-n', 'ip', ...args], { stdio: 'ignore' });
      inNs('link', 'set', 'eth0', 'down');
      inNs('link', 'set', 'eth0', 'name', 'knt-leak0');
      inNs('link', 'set', 'knt-leak0', 'up');
      held = await holdInPrivateMountNs(pause);
      kubectl(['delete', 'pod', 'victim', '-n', ns, '--grace-period=0', '--wait=true'], { timeoutMs: 120_000 });
      await waitFor('the sandbox to exit', async () => (isAlive(pause) ? undefined : true), 60_000);
    });
    after(() => {
      // The holder is the last reference: killing it frees the namespace and its veth.
      cleanupAll();
    });

    test("ls lists it as orphaned (no process) or stale, kept by the mount in the holder's mount namespace", async () => {
      const list = await json<NetnsList>(['ls', NODE_NAME, ...base, '-o', 'json']);
      const item = list.items.find((i) => String(i.inode) === inode);
      assert.ok(item, `netns ${inode} not listed`);
      assert.ok(item.state === 'orphaned' || item.state === 'stale', item.state);
      assert.equal(item.processes, 0);
      assert.ok(item.paths.includes(`/proc/${held.holderPid}/root${held.mountpoint}`), JSON.stringify(item.paths));
      assert.deepEqual(
        item.holders.map((h) => [h.pid, h.command]),
        [[held.holderPid, 'sleep']],
      );
      assert.deepEqual(item.ipv4, [oldIP]);
      // The printed way in works from the node.
      const seen = execFileSync('sh', ['-c', `${item.enter} ip -o -4 addr show dev knt-leak0`], { encoding: 'utf8' });
      assert.ok(seen.includes(`inet ${oldIP}/`), seen);
    });

    test('whohas finds its old IP on every node (the default) and names it orphaned/stale; exit 0', async () => {
      const r = await runPlugin(['whohas', oldIP, ...base, '-o', 'json'], { env });
      assert.equal(r.code, 0, r.stderr);
      const result = JSON.parse(r.stdout.toString()) as WhoHasResult;
      checkShape(result, documentedShape('WhoHas'));
      assert.deepEqual(result.nodes, readyNodes());
      assert.equal(result.items.length, 1, JSON.stringify(result.items));
      const hit = result.items[0]!;
      assert.equal(String(hit.inode), inode);
      assert.ok(hit.state === 'orphaned' || hit.state === 'stale');
      assert.deepEqual(
        hit.matches.map((m) => m.interface),
        ['knt-leak0'],
      );
      assert.match(
        r.stderr,
        new RegExp(
          `${oldIP.replace(/\./g, '\\.')} is held by (an orphaned|a stale) namespace .*pid ${held.holderPid} \\(sleep\\)`,
        ),
      );

      const table = await runPlugin(['whohas', oldIP, '--node', NODE_NAME, ...base], { env });
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout.toString(), new RegExp(`^${NODE_NAME} +${inode} +(orphaned|stale) `, 'm'));
      assert.deepEqual(debugPods(ns), []);
    });

    test('whohas of an address nobody holds: exit 4, nothing on stdout (table) and an empty list (json)', async () => {
      const none = await runPlugin(['whohas', '10.232.255.254', ...base], { env });
      assert.equal(none.code, ExitCode.notFound, none.stderr);
      assert.equal(none.stdout.length, 0);
      assert.match(
        none.stderr,
        new RegExp(`no network namespace on ${readyNodes().length} node\\(s\\) holds 10\\.232\\.255\\.254`),
      );
      const j = await runPlugin(['whohas', '10.232.255.254', ...base, '-o', 'json'], { env });
      assert.equal(j.code, ExitCode.notFound);
      assert.deepEqual((JSON.parse(j.stdout.toString()) as WhoHasResult).items, []);
    });
  });

  test("capture --host-side records HTTP to the pod on the node's end of its veth", async () => {
    const file = join(dir, 'host-side.pcap');
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
    const child = spawn('script', ['-qfec', `${process.execPath} ${PLUGIN} shell web ${base.join(' ')}`, '/dev/null'], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
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
