// Two nodes for real (npm run cluster:up -- --nodes 2): node 1 is this machine's root namespaces,
// node 2 (knetns-node2) has network, mount and PID namespaces, a containerd and a kubelet of its
// own. Pods on different nodes talk through the nodes' routes; node-wide searches cover both nodes;
// debug pods go where their target is; a node whose kubelet has stopped gives a partial answer.
// Traffic goes only between our own pods, and from this machine to them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clusterWithNodes,
  clusterNodes,
  createNamespace,
  debugPods,
  debugPodStates,
  deleteNamespace,
  ensureNodes,
  httpGet,
  KUBECONFIG,
  kubectl,
  kubectlJson,
  NODE2,
  NODE_IP,
  NODE_NAME,
  POD_CIDR,
  readyNodes,
  restoreCluster,
  runPod,
  STATE_DIR,
  stopKubelet,
  waitFor,
} from '../helpers/cluster.ts';
import { prerequisiteSkip } from '../helpers/netns.ts';
import { collect, DEBUG_IMAGE, runPlugin, startPlugin, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import { readCapture } from '../helpers/pcap/reader.ts';
import { summarize } from '../helpers/pcap/packets.ts';
import { ExitCode } from '../../src/errors.ts';
import type { NetnsList, WhoHasResult } from '../../src/output/netns-views.ts';

const skip = ensureNodes(2) || prerequisiteSkip(['tshark']);
const ns = `e2e-multinode-${process.pid}`;
const env = { KUBECONFIG };
const base = ['-n', ns, '--image', DEBUG_IMAGE];
const dir = mkdtempSync(join(tmpdir(), 'knetns-e2e-multinode-'));

function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const [net, bits] = cidr.split('/');
  const mask = 2 ** 32 - 2 ** (32 - Number(bits));
  return (toInt(ip) & mask) >>> 0 === (toInt(net!) & mask) >>> 0;
}

/** One HTTP/1.0 GET from inside pod FROM to TO:8080 (busybox nc), the response as text. */
function getFromPod(from: string, to: string, path: string): string {
  return kubectl([
    'exec',
    '-n',
    ns,
    from,
    '--',
    'sh',
    '-c',
    `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${to} 8080`,
  ]);
}

/** The nodes the debug pods in our namespace are bound to right now. */
function debugPodNodes(): string[] {
  return debugPodStates(ns).map((p) => p.node);
}

async function json<T>(args: string[], expectCode = 0): Promise<{ out: T; stderr: string }> {
  const r = await runPlugin(args, { env });
  assert.equal(r.code, expectCode, r.stderr);
  return { out: JSON.parse(r.stdout.toString()) as T, stderr: r.stderr };
}

describe('two nodes', { skip, timeout: 900_000 }, () => {
  let web1: any;
  let web2: any;
  let ip1 = '';
  let ip2 = '';
  before(async () => {
    await createNamespace(ns);
    web1 = await runPod(ns, 'web1', WEB_IMAGE);
    web2 = await runPod(ns, 'web2', WEB_IMAGE, { nodeName: NODE2.name });
    ip1 = web1.status.podIP;
    ip2 = web2.status.podIP;
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await deleteNamespace(ns);
  });

  test('two Ready nodes with their own node IPs and pod CIDRs; node 2 in namespaces of its own', () => {
    assert.deepEqual(readyNodes().slice(0, 2), [NODE_NAME, NODE2.name]);
    const nodes = new Map(
      kubectlJson<{ items: any[] }>(['get', 'nodes']).items.map((n) => [n.metadata.name as string, n]),
    );
    const addr = (n: any) => n.status.addresses.find((a: any) => a.type === 'InternalIP')?.address;
    assert.equal(addr(nodes.get(NODE_NAME)), NODE_IP);
    assert.equal(addr(nodes.get(NODE2.name)), NODE2.ip);
    assert.equal(nodes.get(NODE_NAME).spec.podCIDR, POD_CIDR);
    assert.equal(nodes.get(NODE2.name).spec.podCIDR, NODE2.podCIDR);
    // Node 2's init (PID 1 of its PID namespace) holds network, mount, PID, UTS and IPC namespaces
    // that are not this machine's.
    const init = readFileSync(join(STATE_DIR, 'pids', NODE2.name, 'init.pid'), 'utf8').trim();
    for (const kind of ['net', 'mnt', 'pid', 'uts', 'ipc'])
      assert.notEqual(readlinkSync(`/proc/${init}/ns/${kind}`), readlinkSync(`/proc/self/ns/${kind}`), kind);
  });

  test('a pod on each node: HTTP between them both ways, and from this machine to both', async () => {
    assert.equal(web1.spec.nodeName, NODE_NAME);
    assert.equal(web2.spec.nodeName, NODE2.name);
    assert.ok(inCidr(ip1, POD_CIDR), ip1);
    assert.ok(inCidr(ip2, NODE2.podCIDR), ip2);
    assert.match(
      getFromPod('web1', ip2, '/index.html?from=node1'),
      /^HTTP\/1\.[01] 200 .*hello from kubectl-netns\.local\/web/s,
    );
    assert.match(
      getFromPod('web2', ip1, '/index.html?from=node2'),
      /^HTTP\/1\.[01] 200 .*hello from kubectl-netns\.local\/web/s,
    );
    await httpGet(`http://${ip1}:8080/`);
    await httpGet(`http://${ip2}:8080/`);
  });

  test("a hostPID, hostNetwork pod on node 2 sees node 2's processes (its init as PID 1), interfaces and hostname", async () => {
    await runPod(ns, 'hostpid', DEBUG_IMAGE, {
      nodeName: NODE2.name,
      hostPID: true,
      hostNetwork: true,
      command: ['sleep', '600'],
    });
    assert.equal(kubectl(['exec', '-n', ns, 'hostpid', '--', 'cat', '/proc/sys/kernel/hostname']).trim(), NODE2.name);
    assert.match(
      kubectl(['exec', '-n', ns, 'hostpid', '--', 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']),
      new RegExp(`inet ${NODE2.ip.replace(/\./g, '\\.')}/24`),
    );
    const comms = kubectl([
      'exec',
      '-n',
      ns,
      'hostpid',
      '--',
      'sh',
      '-c',
      // A process may exit between the glob and its read.
      'for f in /proc/[0-9]*/comm; do cat "$f" 2>/dev/null; done; true',
    ]).split('\n');
    // Its own kubelet and container runtime (containerd, or CRI-O's crio: node 2's flavour decides).
    const runtime = clusterNodes().find((n) => n.name === NODE2.name)?.runtime === 'crio' ? 'crio' : 'containerd';
    assert.ok(comms.includes('kubelet') && comms.includes(runtime), comms.join(' '));
    for (const other of ['kube-apiserver', 'etcd', 'kube-scheduler'])
      assert.ok(!comms.includes(other), `${other} (node 1's) is visible on node 2`);
    const one = kubectl(['exec', '-n', ns, 'hostpid', '--', 'cat', '/proc/1/cmdline']);
    assert.match(one, /node-init\.sh\x002/);
    kubectl(['delete', 'pod', 'hostpid', '-n', ns, '--grace-period=0', '--wait=false']);
  });

  test('whohas the IP of the pod on node 2 searches every node and finds it there; exit 0', async () => {
    const { out } = await json<WhoHasResult>(['whohas', ip2, ...base, '-o', 'json']);
    assert.deepEqual(out.nodes, readyNodes());
    const hit = out.items.find((i) => i.node === NODE2.name);
    assert.ok(hit, JSON.stringify(out.items));
    assert.equal(hit.state, 'pod');
    assert.deepEqual([hit.pod?.namespace, hit.pod?.name], [ns, 'web2']);
    assert.deepEqual(
      hit.matches.map((m) => m.address),
      [`${ip2}/24`],
    );
    // Node 1 is the machine itself and sees into node 2's PID namespace (documented in
    // docs/local-cluster.md): it may list the same namespace, never another one.
    for (const i of out.items) assert.equal(i.inode, hit.inode, JSON.stringify(i));
    assert.deepEqual(debugPods(ns), []);
  });

  test("ls --all-nodes lists both nodes' namespaces, each node with its own host namespace", async () => {
    const { out } = await json<NetnsList>(['ls', '--all-nodes', ...base, '-o', 'json']);
    const on = (node: string) => out.items.filter((i) => i.node === node);
    const pod = (node: string, name: string) => on(node).find((i) => i.pod?.namespace === ns && i.pod.name === name);
    assert.equal(pod(NODE_NAME, 'web1')?.state, 'pod');
    assert.deepEqual(pod(NODE_NAME, 'web1')?.ipv4, [ip1]);
    assert.equal(pod(NODE2.name, 'web2')?.state, 'pod');
    assert.deepEqual(pod(NODE2.name, 'web2')?.ipv4, [ip2]);
    const host = (node: string) => on(node).filter((i) => i.state === 'host');
    assert.equal(host(NODE_NAME).length, 1);
    assert.ok(host(NODE_NAME)[0]!.ipv4.includes(NODE_IP));
    assert.equal(host(NODE2.name).length, 1);
    assert.deepEqual([...host(NODE2.name)[0]!.ipv4].sort(), [NODE2.ip, '10.214.1.1']);
    // Node 2 sees nothing of node 1: not its host namespace, not its pods.
    const node1Own = new Set(
      on(NODE_NAME)
        .filter((i) => i.state === 'host' || i.state === 'pod')
        .map((i) => i.inode),
    );
    for (const i of on(NODE2.name)) assert.ok(!node1Own.has(i.inode), JSON.stringify(i));

    // The table says which node each row is on.
    const table = await runPlugin(['ls', '--all-nodes', ...base], { env });
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.toString().trimEnd().split('\n');
    assert.match(rows[0]!, /^NODE +INODE +STATE +POD/);
    assert.ok(
      rows.some((r) => r.startsWith(`${NODE2.name} `) && r.includes(`${ns}/web2`)),
      rows.join('\n'),
    );
    assert.match(table.stderr, new RegExp(`network namespace\\(s\\) on ${readyNodes().length} node\\(s\\)`));
    assert.deepEqual(debugPods(ns), []);
  });

  test('capture of the pod on node 2: its debug pod runs on node 2 and records HTTP from the pod on node 1', async () => {
    const file = join(dir, 'cross-node.pcap');
    const child = startPlugin(
      ['capture', 'web2', ...base, '-o', file, '--duration', '8s', '--', 'tcp', 'port', '8080'],
      {
        env,
      },
    );
    const done = collect(child);
    await waitForStderr(child, /capturing on eth0/);
    assert.deepEqual(debugPodNodes(), [NODE2.name]);
    for (let i = 0; i < 3; i++) getFromPod('web1', ip2, `/index.html?cross=${i}`);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);

    const cap = readCapture(readFileSync(file));
    const s = summarize(
      cap.packets,
      cap.interfaces.map((i) => i.linkType),
    );
    assert.ok(
      s.httpRequests.some((h) => h.line === 'GET /index.html?cross=0 HTTP/1.0' && h.src === ip1 && h.dst === ip2),
      JSON.stringify(s.httpRequests),
    );
    // tshark reads the same file the same way.
    const fields = execFileSync(
      'tshark',
      ['-r', file, '-Y', 'http.request', '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'http.request.uri'],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n');
    for (let i = 0; i < 3; i++) assert.ok(fields.includes(`${ip1}\t${ip2}\t/index.html?cross=${i}`), fields.join('\n'));
    assert.deepEqual(debugPods(ns), []);
  });

  test('exec in the pod on node 2 runs its debug pod on node 2', async () => {
    // The command waits for a line on stdin, so the debug pod is looked at while it surely exists.
    const child = startPlugin(
      ['exec', 'web2', ...base, '-i', '--', 'sh', '-c', 'read go; ip -o -4 addr show dev eth0'],
      {
        env,
        stdin: 'pipe',
      },
    );
    const done = collect(child);
    const nodes = await waitFor('the exec debug pod', async () => {
      const n = debugPodNodes();
      return n.length > 0 ? n : undefined;
    });
    child.stdin!.end('go\n');
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(nodes, [NODE2.name]);
    assert.ok(r.stdout.toString().includes(`inet ${ip2}/`), r.stdout.toString());
    assert.deepEqual(debugPods(ns), []);
  });

  test('a node whose kubelet has stopped: ls --all-nodes and whohas answer for the other node, name this one, exit 7', async () => {
    // Its pods keep running and the API still calls it Ready (for node-monitor-grace-period), so it
    // is searched: its debug pod is never taken up. Both commands run at once, right after the stop,
    // well inside that grace period. --pod-timeout is long on purpose: what ends the wait must be
    // the stopped kubelet (exit 7), not the timeout (exit 11).
    const nodeCount = readyNodes().length;
    await stopKubelet(NODE2.name);
    try {
      const [ls, whohas] = await Promise.all([
        runPlugin(['ls', '--all-nodes', ...base, '--pod-timeout', '300s', '-o', 'json'], { env, timeoutMs: 240_000 }),
        runPlugin(['whohas', '10.232.255.254', ...base, '--pod-timeout', '300s'], { env, timeoutMs: 240_000 }),
      ]);
      assert.equal(ls.code, ExitCode.debugPod, ls.stderr);
      const list = JSON.parse(ls.stdout.toString()) as NetnsList;
      assert.ok(
        list.items.every((i) => i.node !== NODE2.name),
        JSON.stringify(list.items.map((i) => i.node)),
      );
      assert.ok(list.items.some((i) => i.pod?.name === 'web1' && i.pod.namespace === ns));
      assert.match(
        ls.stderr,
        new RegExp(
          `warning: node ${NODE2.name} could not be listed: .*the kubelet of node ${NODE2.name} is not responding`,
        ),
      );

      // An address nobody holds: not on the node searched, and the other could not be: "unknown".
      assert.equal(whohas.code, ExitCode.debugPod, whohas.stderr);
      assert.equal(whohas.stdout.length, 0);
      assert.match(whohas.stderr, new RegExp(`warning: node ${NODE2.name} could not be searched: `));
      // Every other node was searched (2 on a three-node cluster), the stopped one could not be.
      const searched = nodeCount - 1;
      assert.match(
        whohas.stderr,
        new RegExp(
          `error: 10\\.232\\.255\\.254 is not on the ${searched} node\\(s\\) searched; 1 node\\(s\\) could not be searched`,
        ),
      );
      assert.deepEqual(debugPods(ns), []);
      // Only the kubelet is gone: the pod on that node still runs and answers.
      await httpGet(`http://${ip2}:8080/`);
    } finally {
      restoreCluster();
    }
    // Back to schedulable for whatever runs next: the node controller lifts any unreachable taint
    // once the node is Ready again.
    await waitFor(
      `${NODE2.name} without unreachable/not-ready taints`,
      async () => {
        const taints = (kubectlJson(['get', 'node', NODE2.name]).spec.taints ?? []) as Array<{ key: string }>;
        return taints.some((t) => /unreachable|not-ready/.test(t.key)) ? undefined : true;
      },
      120_000,
      1000,
    );
  });

  test('a node that starts while node 1 runs pods holds nothing of them (no inherited runtime mounts)', async () => {
    // Node 2 is made anew while web1 runs on node 1. Its mount namespace starts as a copy of this
    // machine's, which holds node 1's runtime mounts: web1's network namespace bind mount, its
    // root filesystem, its volumes. A node that kept them would pin web1's namespace for as long
    // as it runs, and ls on node 2 would list it as orphaned: the leak the forensics look for.
    const web1Netns = (await json<NetnsList>(['ls', NODE_NAME, ...base, '-o', 'json'])).out.items.find(
      (i) => i.pod?.namespace === ns && i.pod.name === 'web1',
    );
    assert.ok(web1Netns, 'web1 is not listed on node 1');
    clusterWithNodes(1);
    clusterWithNodes(2);
    await waitFor('node 2 Ready again', async () => (readyNodes().includes(NODE2.name) ? true : undefined), 120_000);

    const init = readFileSync(join(STATE_DIR, 'pids', NODE2.name, 'init.pid'), 'utf8').trim();
    const inherited = readFileSync(`/proc/${init}/mountinfo`, 'utf8')
      .split('\n')
      .filter(
        (l) => / - nsfs /.test(l) || / \/run\/kubectl-netns\/containerd\//.test(l) || /\/kubelet\/pods\//.test(l),
      );
    assert.deepEqual(inherited, [], "node 2's mount namespace holds node 1's runtime mounts");

    const { out } = await json<NetnsList>(['ls', NODE2.name, ...base, '-o', 'json']);
    assert.ok(
      out.items.every((i) => i.inode !== web1Netns.inode),
      `node 2 lists web1's namespace: ${JSON.stringify(out.items.find((i) => i.inode === web1Netns.inode))}`,
    );
    assert.deepEqual(
      out.items.filter((i) => i.state === 'orphaned' || i.state === 'stale'),
      [],
      'a new node has no leftovers',
    );
  });
});
