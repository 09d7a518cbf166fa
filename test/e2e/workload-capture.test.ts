// Capturing many pods at once on the real local cluster: pods picked by label across both nodes,
// merged into one pcapng that tshark and capinfos read with the pods' names; a pod that appears
// mid-capture caught from its birth; a pod deleted mid-capture; a rotated ring of files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
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
  readyNodes,
  runPod,
  sendUdp,
  waitFor,
  watchDebugPodsCreated,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, startPlugin, waitForStderr, WEB_IMAGE } from '../helpers/plugin.ts';
import { tempDir } from '../helpers/temp.ts';

const skip = ensureCluster();
const ns = `e2e-workload-${process.pid}`;
const env = { KUBECONFIG };
const dir = tempDir('knetns-workload-');
const base = ['-n', ns, '--image', DEBUG_IMAGE];
const PARTIAL = 12;

/** Rows of tshark fields from FILE (tab-separated), with display filter FILTER. */
function tshark(file: string, filter: string, fields: string[], extra: string[] = []): string[][] {
  const out = execFileSync(
    'tshark',
    ['-r', file, ...extra, '-Y', filter, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
}

/** capinfos' machine-readable summary of FILE (fails the test if capinfos cannot read it). */
function capinfos(file: string): string {
  return execFileSync('capinfos', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Every IPv4 packet in FILE is to or from POD_IP: the capture was in the pod's own network
 * namespace, not the node's (which also carries every other pod's and the kubelet's traffic).
 */
function assertOnlyPodTraffic(file: string, podIP: string): void {
  const others = tshark(file, `ip && ip.src != ${podIP} && ip.dst != ${podIP}`, ['ip.src', 'ip.dst']);
  assert.deepEqual(others, [], `packets of other hosts in ${file}: the node's namespace was captured`);
}

/**
 * Waits for the command to say its captures are armed on every one of NODES: only then is a new
 * pod's first packet sure to be captured (a debug pod that runs may not have its agent ready yet).
 */
async function armedOnEveryNode(child: ChildProcess, nodes: string[]): Promise<void> {
  const each = nodes.map((n) => `(?=[^:\\n]*\\b${n}\\b)`).join('');
  await waitForStderr(child, new RegExp(`armed on nodes? ${each}[^:\\n]*: a pod that appears there now`));
}

describe('capture of a whole workload', { skip, timeout: 900_000 }, () => {
  let nodes: string[] = [];
  const web: { name: string; ip: string; node: string }[] = [];

  before(async () => {
    nodes = readyNodes();
    await createNamespace(ns);
    // Three pods by label, spread over the nodes (both, when there are two).
    for (const [i, name] of ['web-a', 'web-b', 'web-c'].entries()) {
      const node = nodes[i % nodes.length]!;
      const pod = await runPod(ns, name, WEB_IMAGE, { labels: { app: 'web' }, nodeName: node });
      web.push({ name, ip: pod.status.podIP as string, node });
    }
  });
  after(async () => {
    await deleteNamespace(ns);
  });

  test('three pods by label: one pcapng, an interface per pod named for it, each pod’s packets on its own, names from the file', async () => {
    const file = join(dir, 'web.pcapng');
    const created = watchDebugPodsCreated(ns);
    const child = startPlugin(['capture', '-l', 'app=web', ...base, '-w', file, '--duration', '12s'], { env });
    const done = collect(child);
    await waitForStderr(child, /(capturing \S+ on [\s\S]*){3}/);
    for (const w of web) {
      await sendUdp(w.ip, 5, 64);
      await httpGet(`http://${w.ip}:8080/index.html?to=${w.name}`);
    }
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 0);

    const info = capinfos(file);
    assert.match(info, /File type:\s+Wireshark\/\.\.\. - pcapng/);
    assert.match(info, /Number of interfaces in file: 3/);
    // Every datagram to a pod is on that pod's interface, and on no other.
    const rows = tshark(file, 'udp.dstport == 9999', ['frame.interface_name', 'ip.dst']);
    for (const w of web) {
      const on = rows.filter((x) => x[1] === w.ip).map((x) => x[0]);
      assert.ok(on.length >= 5, `${w.name}: ${JSON.stringify(rows)}`);
      assert.deepEqual(new Set(on), new Set([`${ns}/${w.name}/eth0`]));
    }
    const descriptions = new Set(tshark(file, 'frame', ['frame.interface_description']).map((x) => x[0]));
    for (const w of web) {
      assert.ok(
        [...descriptions].some((d) => d!.includes(`pod ${ns}/${w.name} on node ${w.node}`) && d!.includes(w.ip)),
        [...descriptions].join('\n'),
      );
    }
    // Name resolution from the file's NRB only (-N n asks no resolver): pod IPs show as pod names.
    const named = new Set(tshark(file, 'http.request', ['ip.dst_host'], ['-N', 'n']).map((x) => x[0]));
    assert.deepEqual(named, new Set(web.map((w) => `${ns}/${w.name}`)));
    // Packets are in timestamp order across the pods.
    const times = tshark(file, 'frame', ['frame.time_epoch']).map((x) => Number(x[0]));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
    // One debug pod per node that has a target, and none left.
    const debug = new Set(await created.stop());
    assert.equal(debug.size, new Set(web.map((w) => w.node)).size, [...debug].join(', '));
    assert.deepEqual(debugPods(ns), []);
  });

  test('-w - streams the merged pcapng to stdout; -w DIR/ writes one pcap per pod', async () => {
    // The merged stream, as a pipe into another tool would get it.
    const child = startPlugin(['capture', '-l', 'app=web', ...base, '-w', '-', '--duration', '10s'], { env });
    const done = collect(child);
    await waitForStderr(child, /(capturing \S+ on [\s\S]*){3}/);
    for (const w of web) await sendUdp(w.ip, 3, 64);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const streamed = join(dir, 'streamed.pcapng');
    writeFileSync(streamed, r.stdout);
    assert.match(capinfos(streamed), /Number of interfaces in file: 3/);
    const rows = tshark(streamed, 'udp.dstport == 9999', ['frame.interface_name']).map((x) => x[0]);
    assert.deepEqual(new Set(rows), new Set(web.map((w) => `${ns}/${w.name}/eth0`)));

    // One classic pcap per pod, each holding only that pod's packets.
    const perPod = join(dir, 'per-pod');
    const child2 = startPlugin(['capture', '-l', 'app=web', ...base, '-w', `${perPod}/`, '--duration', '10s'], { env });
    const done2 = collect(child2);
    await waitForStderr(child2, /(capturing \S+ on [\s\S]*){3}/);
    for (const w of web) await sendUdp(w.ip, 3, 64);
    const r2 = await done2;
    assert.equal(r2.code, 0, r2.stderr);
    const files = readdirSync(perPod).sort();
    assert.deepEqual(files, web.map((w) => `${ns}_${w.name}.pcap`).sort());
    for (const w of web) {
      const f = join(perPod, `${ns}_${w.name}.pcap`);
      assert.match(capinfos(f), /File type:\s+Wireshark\/tcpdump\/\.\.\. - pcap/);
      const dsts = new Set(tshark(f, 'udp.dstport == 9999 && !icmp', ['ip.dst']).map((x) => x[0]));
      assert.deepEqual(dsts, new Set([w.ip]), f);
    }
    assert.deepEqual(debugPods(ns), []);
  });

  test('a pod deleted mid-capture: the others keep capturing, the file is complete, the exit code says partial', async () => {
    const file = join(dir, 'deleted.pcapng');
    const child = startPlugin(['capture', '-l', 'app=web', ...base, '-w', file, '--duration', '15s'], { env });
    const done = collect(child);
    await waitForStderr(child, /(capturing \S+ on [\s\S]*){3}/);
    const [gone, ...kept] = web as [(typeof web)[0], ...typeof web];
    kubectl(['delete', 'pod', gone.name, '-n', ns, '--grace-period=0', '--force', '--wait=true'], {
      timeoutMs: 60_000,
    });
    for (const w of kept) await sendUdp(w.ip, 5, 64);
    const r = await done;
    assert.equal(r.code, PARTIAL, r.stderr);
    assert.match(r.stderr, new RegExp(`${ns}/${gone.name}: .*the other targets go on`));
    assert.match(r.stderr, /the capture is partial/);
    assert.match(capinfos(file), /Number of interfaces in file: 3/);
    const rows = tshark(file, 'udp.dstport == 9999', ['frame.interface_name', 'ip.dst']);
    for (const w of kept)
      assert.ok(rows.filter((x) => x[1] === w.ip).length >= 5, `${w.name}: ${JSON.stringify(rows)}`);
    assert.deepEqual(debugPods(ns), []);
    // Put it back for the tests that follow.
    const pod = await runPod(ns, gone.name, WEB_IMAGE, { labels: { app: 'web' }, nodeName: gone.node });
    gone.ip = pod.status.podIP as string;
  });

  test('--rotate-size 100KB --rotate-count 3: exactly 3 files remain, each complete and within the size', async () => {
    const rotDir = join(dir, 'rotate');
    execFileSync('mkdir', ['-p', rotDir]);
    const child = startPlugin(
      [
        'capture',
        '-l',
        'app=web',
        ...base,
        '-w',
        join(rotDir, 'web.pcapng'),
        '--rotate-size',
        '100KB',
        '--rotate-count',
        '3',
        '--duration',
        '15s',
      ],
      { env },
    );
    const done = collect(child);
    await waitForStderr(child, /(capturing \S+ on [\s\S]*){3}/);
    // About 1.2 MB of datagrams: a dozen files' worth.
    for (let i = 0; i < 4; i++) for (const w of web) await sendUdp(w.ip, 100, 1000);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const rotated = r.stderr.match(/web-\S+ is complete/g) ?? [];
    assert.ok(rotated.length >= 5, r.stderr);
    const files = readdirSync(rotDir).sort();
    assert.equal(files.length, 3, files.join(', '));
    // The summary names the files that are there, and how many the ring removed.
    assert.match(
      r.stderr,
      new RegExp(
        `in ${files.map((f) => join(rotDir, f)).join(', ')} \\(${rotated.length - 3} older file\\(s\\) removed`,
      ),
    );
    for (const f of files) {
      const path = join(rotDir, f);
      assert.match(f, /^web-\d{5}-\d{8}T\d{6}Z\.pcapng$/);
      assert.ok(statSync(path).size <= 100_000, `${f}: ${statSync(path).size} bytes`);
      const info = capinfos(path);
      assert.match(info, /Number of interfaces in file: 3/, f);
      assert.ok(tshark(path, 'udp.dstport == 9999', ['ip.dst']).length > 0, f);
    }
  });

  test('--follow: a pod created mid-capture on each node is captured from its birth, its init container’s first SYN included', async () => {
    const file = join(dir, 'born.pcapng');
    const target = web[0]!;
    const child = startPlugin(['capture', '-l', 'app=born', ...base, '--follow', '-w', file, '--duration', '30s'], {
      env,
    });
    const done = collect(child, 180_000);
    // --follow arms a capture on every node at once, so a pod is caught however soon it talks.
    await armedOnEveryNode(child, nodes);
    // One newborn per node: every node flavour (runtime, CNI) must show its pods' first packets.
    const born = nodes.map((node, i) => ({ name: `born-${i + 1}`, node, ip: '' }));
    // Listen for every newborn's announcement before any is created: a listener added after an
    // earlier wait would miss a line already printed (pods on other nodes start meanwhile).
    const announced = born.map((b) =>
      waitForStderr(child, new RegExp(`new pod ${ns}/${b.name} on node ${b.node}; capturing it from its birth`)),
    );
    for (const b of born) {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: b.name, namespace: ns, labels: { app: 'born' } },
        spec: {
          nodeName: b.node,
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 0,
          automountServiceAccountToken: false,
          initContainers: [
            {
              name: 'first-words',
              image: WEB_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              // 2 s after it starts: tcpdump listens tens of ms after the pod's first process appears
              // (docs/capture.md; on CRI-O that process is this container itself), and at 0.5 s the
              // CRI-O node of a loaded CI machine once lost that race: the test must not race it.
              command: [
                'sh',
                '-c',
                `sleep 2; wget -q -O /dev/null 'http://${target.ip}:8080/index.html?from=${b.name}'`,
              ],
            },
          ],
          containers: [{ name: 'main', image: WEB_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
        },
      };
      kubectl(['create', '-f', '-'], JSON.stringify(pod));
    }
    await Promise.all(announced);
    for (const b of born) {
      b.ip = await waitFor(`${b.name} running`, async () => {
        const p = kubectlJson(['get', 'pod', b.name, '-n', ns]);
        return p.status?.phase === 'Running' ? (p.status.podIP as string) : undefined;
      });
    }
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const uris = tshark(file, 'http.request', ['http.request.uri']).map((x) => x[0]);
    for (const b of born) {
      // The init container's connection, from its very first SYN, on the new pod's interface.
      const syns = tshark(file, `tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == ${b.ip}`, [
        'frame.interface_name',
        'ip.dst',
        'tcp.dstport',
      ]);
      assert.ok(
        syns.some((s) => s[0]!.startsWith(`${ns}/${b.name}/`) && s[1] === target.ip && s[2] === '8080'),
        `${b.name} on ${b.node}: ${JSON.stringify(syns)}\n${r.stderr}`,
      );
      assert.ok(uris.includes(`/index.html?from=${b.name}`), `${b.node}: ${JSON.stringify(uris)}`);
      // The file names the newborn pod too. Its address is known only after its first packets, so
      // its NRB comes later in the file: Wireshark applies it on load, tshark with two passes (-2).
      const named = tshark(file, `ip.src == ${b.ip}`, ['ip.src_host'], ['-2', '-N', 'n']).map((x) => x[0]);
      assert.ok(named.includes(`${ns}/${b.name}`), JSON.stringify(named));
    }
    // Only the newborns' own traffic: each capture was in its pod's namespace, not its node's.
    const others = tshark(file, `ip && ${born.map((b) => `ip.src != ${b.ip} && ip.dst != ${b.ip}`).join(' && ')}`, [
      'ip.src',
      'ip.dst',
    ]);
    assert.deepEqual(others, [], "packets of other hosts: a node's namespace was captured");
    assert.deepEqual(debugPods(ns), []);
  });

  test('--wait POD: a pod named before it exists is captured from its birth, into pcapng (a .pcap name is warned about)', async () => {
    const file = join(dir, 'later.pcap');
    const target = web[0]!;
    const child = startPlugin(['capture', 'later', ...base, '--wait', '-w', file, '--duration', '25s'], { env });
    const done = collect(child, 180_000);
    // Before it exists there is nothing to resolve: it used to end at once with "not found" (exit 4).
    await armedOnEveryNode(child, nodes);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'later', namespace: ns },
      spec: {
        nodeName: nodes[nodes.length - 1]!,
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'main',
            image: WEB_IMAGE,
            imagePullPolicy: 'IfNotPresent',
            command: ['sh', '-c', `sleep 0.5; wget -q -O /dev/null 'http://${target.ip}:8080/index.html?from=later'`],
          },
        ],
      },
    };
    kubectl(['create', '-f', '-'], JSON.stringify(pod));
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`new pod ${ns}/later on node \\S+; capturing it from its birth`));
    assert.match(r.stderr, /later\.pcap will hold pcapng/);
    assert.match(capinfos(file), /File type:\s+Wireshark\/\.\.\. - pcapng/);
    const uris = tshark(file, 'http.request', ['frame.interface_name', 'http.request.uri', 'ip.src']);
    const request = uris.find((u) => u[0] === `${ns}/later/any` && u[1] === '/index.html?from=later');
    assert.ok(request, `${JSON.stringify(uris)}\n${r.stderr}`);
    assertOnlyPodTraffic(file, request[2]!);
    assert.deepEqual(debugPods(ns), []);
  });
});
