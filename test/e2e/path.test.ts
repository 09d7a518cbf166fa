// `kubectl netns path` on the real two-node cluster: every hop between a client pod and a web pod
// on one node, across nodes, through a Service (kube-proxy's DNAT), and to a test host of ours on
// the nodes' LAN; loss injected with a random iptables DROP on one hop and delay with a slow tbf
// queue on another, each in its own test, the report naming that hop. The pcapng is checked with
// tshark: interface names, packet comments, and per hop the packets a counting source (ping)
// sent. Traffic is bounded (ping -c, a fixed number of requests, a fixed-size file).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createNamespace,
  deleteNamespace,
  ensureCluster,
  ensureNodes,
  KUBECONFIG,
  kubectl,
  kubectlJson,
  kubectlRun,
  NODE2,
  NODE_NAME,
  runPod,
  STATE_DIR,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, startPlugin, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import type { PathReport } from '../../src/path/report.ts';

const skip = ensureCluster() ?? ensureNodes(2);
const ns = `e2e-path-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'knetns-path-'));
const env = { KUBECONFIG };
const www = mkdtempSync(join(tmpdir(), 'knetns-path-www-'));
/** Our test host on the nodes' LAN, outside the cluster (not a node, pod or Service). */
const OUTSIDE = { ns: `knt-out-${process.pid % 100000}`, hostIf: `kntout${process.pid % 10000}`, ip: '10.213.0.240' };

/** Runs CMD... in node 2's network namespace (iptables, tc there). */
function inNode2(cmd: string[]): string {
  const init = readFileSync(join(STATE_DIR, 'pids', NODE2.name, 'init.pid'), 'utf8').trim();
  return execFileSync('nsenter', ['-t', init, '-n', '--', ...cmd], { encoding: 'utf8' });
}

/** A shell script in the client pod; its stdout (the traffic source's own count). */
function inClient(script: string): string {
  const r = kubectlRun(['exec', '-n', ns, 'client', '--', 'sh', '-c', script], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, `traffic failed: ${r.stderr}`);
  return r.stdout;
}

/** ping -c N from the client; asserts it says it sent N. */
function ping(ip: string, n: number, interval = '0.05'): string {
  const out = inClient(`ping -c ${n} -i ${interval} -W 1 ${ip} || true`);
  assert.match(out, new RegExp(`^${n} packets transmitted`, 'm'), out);
  return out;
}

/** N HTTP/1.0 requests with busybox nc (Debian's busybox wget crashes); how many were answered. */
function http(ip: string, port: number, n: number, path = '/'): number {
  const out = inClient(
    `for i in $(seq 1 ${n}); do printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${ip} ${port} | head -1; done`,
  );
  return out.split('\n').filter((l) => l.startsWith('HTTP/1.')).length;
}

/** One HTTP/1.0 GET of PATH read to its end; the bytes received (headers included). */
function download(ip: string, port: number, path: string): number {
  return Number(inClient(`printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc -w 10 ${ip} ${port} | wc -c`).trim());
}

/**
 * With KNETNS_RECORD_PATH_FIXTURES=1, a run's pcapng and report become fixtures of the unit tests
 * of the correlation (test/unit/path/fixtures), with FACTS the test measured beside them.
 */
function record(name: string, run: { report: PathReport; file: string }, facts: Record<string, unknown> = {}): void {
  if (process.env.KNETNS_RECORD_PATH_FIXTURES !== '1') return;
  const out = new URL('../unit/path/fixtures/', import.meta.url);
  copyFileSync(run.file, new URL(`${name}.pcapng`, out));
  writeFileSync(new URL(`${name}.json`, out), `${JSON.stringify({ facts, report: run.report }, null, 2)}\n`);
}

/** Runs `path client DST` around TRAFFIC, stopped with Ctrl-C once it is done; the JSON report. */
async function path(
  name: string,
  dst: string,
  traffic: () => void,
): Promise<{ report: PathReport; file: string; stderr: string }> {
  const file = join(dir, `${name}.pcapng`);
  const child: ChildProcess = startPlugin(
    ['path', '-n', ns, '--image', DEBUG_IMAGE, 'client', dst, '-w', file, '-o', 'json', '--duration', '120s'],
    { env },
  );
  const done = collect(child, 240_000);
  await waitForStderr(child, /capturing at every hop/);
  traffic();
  // Packets in flight reach every hop; then stop, as a user does.
  await new Promise((r) => setTimeout(r, 1500));
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  writeFileSync(join(dir, `${name}.stderr`), r.stderr);
  return { report: JSON.parse(r.stdout.toString()) as PathReport, file, stderr: r.stderr };
}

/** tshark's fields of FILE's packets matching FILTER. */
function tshark(file: string, filter: string, fields: string[]): string[][] {
  return execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 2 ** 20,
  })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

/** How many packets matching FILTER each interface of FILE holds, by interface name. */
function perInterface(file: string, filter: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name] of tshark(file, filter, ['frame.interface_name'])) out[name!] = (out[name!] ?? 0) + 1;
  return out;
}

/** Every hop of the report is an interface of the file, in order, and shows N echo requests of ours. */
function assertEveryHopSawPings(report: PathReport, file: string, n: number, target: string): void {
  const requests = perInterface(file, `icmp.type == 8 && ip.dst == ${target}`);
  assert.deepEqual(
    report.hops.map((h) => [h.name, requests[h.name]]),
    report.hops.map((h) => [h.name, n]),
    'echo requests per hop, against the N ping sent',
  );
  // Every one of them carries its flow and hop in a comment Wireshark shows.
  const comments = tshark(file, `icmp.type == 8 && ip.dst == ${target}`, ['frame.interface_name', 'frame.comment']);
  for (const [iface, comment] of comments) {
    const hop = report.hops.findIndex((h) => h.name === iface) + 1;
    assert.match(comment ?? '', new RegExp(`^flow \\d+ forward, hop ${hop}/${report.hops.length}, .*; icmp `), iface);
  }
}

function assertNoLoss(report: PathReport): void {
  for (const h of report.hops) assert.deepEqual(h.lostBefore, { forward: 0, reply: 0 }, h.name);
  for (const f of report.flows) assert.equal(f.status, 'complete', JSON.stringify(f));
}

describe('kubectl netns path', { skip, timeout: 900_000 }, () => {
  const ip: Record<string, string> = {};
  let httpd: ChildProcess | undefined;

  before(async () => {
    await createNamespace(ns);
    ip.client = (await runPod(ns, 'client', DEBUG_IMAGE, { command: ['sleep', '900'] })).status.podIP;
    ip.web1 = (await runPod(ns, 'web1', WEB_IMAGE, { labels: { app: 'web1' } })).status.podIP;
    ip.web2 = (await runPod(ns, 'web2', WEB_IMAGE, { labels: { app: 'web2' }, nodeName: NODE2.name })).status.podIP;
    kubectl(['create', 'service', 'clusterip', 'web2', '-n', ns, '--tcp=80:8080']);
    ip.svc = kubectlJson(['get', 'service', 'web2', '-n', ns]).spec.clusterIP;
    // The outside host: a network namespace on the nodes' LAN bridge with an HTTP server, routed
    // back to each node's pods through that node.
    const sh = (args: string[]) => execFileSync('ip', args, { stdio: 'ignore' });
    sh(['netns', 'add', OUTSIDE.ns]);
    sh(['link', 'add', OUTSIDE.hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', OUTSIDE.ns]);
    sh(['link', 'set', OUTSIDE.hostIf, 'master', 'knetns-lan', 'up']);
    sh(['-n', OUTSIDE.ns, 'addr', 'add', `${OUTSIDE.ip}/24`, 'dev', 'eth0']);
    sh(['-n', OUTSIDE.ns, 'link', 'set', 'eth0', 'up']);
    sh(['-n', OUTSIDE.ns, 'link', 'set', 'lo', 'up']);
    sh(['-n', OUTSIDE.ns, 'route', 'add', '10.214.0.0/24', 'via', '10.213.0.1']);
    sh(['-n', OUTSIDE.ns, 'route', 'add', '10.214.1.0/24', 'via', NODE2.ip]);
    writeFileSync(join(www, 'index.html'), 'hello from the outside host\n');
    httpd = spawn(
      'ip',
      ['netns', 'exec', OUTSIDE.ns, 'timeout', '900', 'busybox', 'httpd', '-f', '-p', '8080', '-h', www],
      {
        stdio: 'ignore',
      },
    );
  });

  after(async () => {
    httpd?.kill('SIGKILL');
    execFileSync('ip', ['netns', 'del', OUTSIDE.ns], { stdio: 'ignore' });
    await deleteNamespace(ns);
    rmSync(dir, { recursive: true, force: true });
    rmSync(www, { recursive: true, force: true });
  });

  test('pod to pod on one node: four hops, each with every packet the source sent, named and commented in the pcapng', async () => {
    const run = await path('same-node', 'web1', () => {
      ping(ip.web1!, 20);
      assert.equal(http(ip.web1!, 8080, 5), 5);
    });
    record('same-node', run, { pings: 20, requests: 5 });
    const { report, file } = run;
    assert.deepEqual(
      report.hops.map((h) => [h.where, h.node]),
      [
        ['pod', NODE_NAME],
        ['veth', NODE_NAME],
        ['veth', NODE_NAME],
        ['pod', NODE_NAME],
      ],
    );
    assert.equal(report.clock, null);
    assertEveryHopSawPings(report, file, 20, ip.web1!);
    assertNoLoss(report);
    assert.equal(report.flows.filter((f) => f.protocol === 'tcp').length, 5);
    // Steps on one node use one clock: microseconds, no uncertainty.
    for (const h of report.hops.slice(1)) assert.equal(h.latency?.uncertaintyMs, 0, h.name);
    // The interfaces are the report's hops, in path order, with their descriptions.
    const names = execFileSync('capinfos', ['-I', file], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /^\s+Name = /.test(l))
      .map((l) => l.replace(/^\s+Name = /, ''));
    assert.deepEqual(
      names,
      report.hops.map((h) => h.name),
    );
  });

  test('across nodes: six hops, the two clocks compared and the cross-node step bounded by that', async () => {
    const run = await path('two-nodes', 'web2', () => {
      ping(ip.web2!, 20);
      assert.equal(http(ip.web2!, 8080, 5), 5);
    });
    record('two-nodes', run, { pings: 20, requests: 5 });
    const { report, file } = run;
    assert.deepEqual(
      report.hops.map((h) => [h.where, h.node]),
      [
        ['pod', NODE_NAME],
        ['veth', NODE_NAME],
        ['node', NODE_NAME],
        ['node', NODE2.name],
        ['veth', NODE2.name],
        ['pod', NODE2.name],
      ],
    );
    assertEveryHopSawPings(report, file, 20, ip.web2!);
    assertNoLoss(report);
    // Both nodes share this machine's clock: the estimate must contain 0.
    const c = report.clock!;
    assert.ok(c.offsetMs !== null && c.uncertaintyMs !== null, JSON.stringify(c));
    assert.ok(Math.abs(c.offsetMs) <= c.uncertaintyMs + 0.001, JSON.stringify(c));
    assert.ok(report.hops[3]!.latency!.uncertaintyMs > 0, 'a cross-node step carries its uncertainty');
  });

  test("through a Service: the Service IP's DNAT to the pod is reported on the hop after it happens", async () => {
    const run = await path('service', 'svc/web2', () => {
      assert.equal(http(ip.svc!, 80, 5), 5);
    });
    record('service', run, { requests: 5, service: `${ip.svc}:80`, pod: `${ip.web2}:8080` });
    const { report } = run;
    assert.equal(report.dst.kind, 'service');
    assert.equal(report.hops.length, 6);
    const dnat = report.hops[2]!.nat.find((n) => n.kind === 'dnat');
    assert.deepEqual(dnat, { kind: 'dnat', from: `${ip.svc}:80`, to: `${ip.web2}:8080`, flows: 5 });
    // Before it (inside the client and at its veth) nothing was translated yet.
    assert.deepEqual([report.hops[0]!.nat, report.hops[1]!.nat], [[], []]);
    const tcp = report.flows.filter((f) => f.protocol === 'tcp');
    assert.equal(tcp.length, 5);
    for (const f of tcp) {
      assert.equal(f.server, `${ip.svc}:80`);
      assert.equal(f.status, 'complete');
      assert.ok(f.nat.includes(`DNAT ${ip.svc}:80 → ${ip.web2}:8080`), f.nat.join());
    }
  });

  test('to an address outside the cluster (our test host on the LAN): the client side, out to the uplink', async () => {
    const { report, file } = await path('outside', OUTSIDE.ip, () => {
      ping(OUTSIDE.ip, 20);
      assert.equal(http(OUTSIDE.ip, 8080, 3), 3);
    });
    assert.deepEqual(
      report.hops.map((h) => [h.where, h.interface]),
      [
        ['pod', 'eth0'],
        ['veth', report.hops[1]!.interface],
        ['node', 'knetns-node'],
      ],
    );
    assert.equal(report.dst.kind, 'ip');
    assertEveryHopSawPings(report, file, 20, OUTSIDE.ip);
    assertNoLoss(report);
  });

  test("loss injected after node 2's uplink (random DROP): the report puts it before the next hop, with the rule's count", async () => {
    // The echo requests that node 2 receives on eth0 and would forward to web2: 30% dropped.
    const rule = ['FORWARD', '-i', 'eth0', '-d', ip.web2!, '-p', 'icmp', '--icmp-type', 'echo-request'];
    const drop = [...rule, '-m', 'statistic', '--mode', 'random', '--probability', '0.3', '-j', 'DROP'];
    inNode2(['iptables', '-I', ...drop]);
    let dropped: number;
    let report: PathReport;
    try {
      const run = await path('loss', 'web2', () => {
        ping(ip.web2!, 100, '0.02');
      });
      report = run.report;
      const line = inNode2(['iptables', '-L', 'FORWARD', '-v', '-x', '-n'])
        .split('\n')
        .find((l) => /DROP .*statistic/.test(l));
      dropped = Number(line?.trim().split(/\s+/)[0]);
      record('loss', run, { pings: 100, droppedByRule: dropped, ruleAfter: `${NODE2.name}/eth0` });
    } finally {
      inNode2(['iptables', '-D', ...drop]);
    }
    assert.ok(dropped > 10 && dropped < 60, `the rule dropped ${dropped} of 100`);
    // Tolerance: exact. Every drop is of a request node 2's eth0 captured and its veth never saw,
    // while both were capturing (the traffic ended 1.5 s before the stop).
    const veth = report.hops.findIndex((h) => h.node === NODE2.name && h.where === 'veth');
    assert.equal(report.hops[veth]!.lostBefore.forward, dropped, report.hops[veth]!.name);
    for (const h of report.hops.filter((_, i) => i !== veth)) assert.equal(h.lostBefore.forward, 0, h.name);
    const flow = report.flows.find((f) => f.protocol === 'icmp')!;
    assert.equal(flow.lost.forward, dropped);
  });

  test("delay injected on node 2's uplink (a slow tbf queue, a bulk transfer through it): the report puts it on that hop", async () => {
    // 2 MiB from web2 to the client through 8 Mbit/s on node 2's eth0: its queue fills. A packet
    // socket sees a packet leave after the queue, so the wait is in the step into that hop.
    kubectl(['exec', '-n', ns, 'web2', '--', 'sh', '-c', 'dd if=/dev/zero of=/www/big bs=1024 count=2048 2>/dev/null']);
    const tbf = ['qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', '8mbit', 'burst', '128kb', 'latency', '300ms'];
    inNode2(['tc', ...tbf]);
    let report: PathReport;
    try {
      ({ report } = await path('delay', 'web2', () => {
        assert.ok(download(ip.web2!, 8080, '/big') > 2 * 2 ** 20, 'the whole file came');
      }));
    } finally {
      inNode2(['tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
    }
    const uplink = report.hops.findIndex((h) => h.node === NODE2.name && h.where === 'node');
    const slow = report.hops[uplink]!.replyLatency!;
    const others = report.hops.filter((_, i) => i !== uplink).flatMap((h) => (h.replyLatency ? [h.replyLatency] : []));
    const worstOther = Math.max(...others.map((l) => l.p50Ms));
    assert.ok(slow.p50Ms >= 5, `the queued hop's median step is ${slow.p50Ms} ms`);
    assert.ok(slow.p50Ms >= 10 * Math.max(worstOther, 0.1), `${slow.p50Ms} ms against neighbours' ${worstOther} ms`);
    // Its neighbours: the step before (inside node 2) and after (across to node 1) stay fast.
    assert.ok(report.hops[uplink - 1]!.replyLatency!.p50Ms < 1, JSON.stringify(report.hops[uplink - 1]!.replyLatency));
    assert.ok(report.hops[uplink + 1]!.replyLatency!.p50Ms < 1, JSON.stringify(report.hops[uplink + 1]!.replyLatency));
  });

  test('both ends outside the cluster is a usage error; nothing starts', async () => {
    const r = await collect(startPlugin(['path', '-n', ns, '10.213.0.240', '10.213.0.241'], { env }));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /at least one end of a path must be in the cluster/);
  });
});
