// What one capture may start on the real 2-node cluster: --follow arms only the nodes where the
// workload's pods may be scheduled; over --max-targets, --max-nodes or the debug pod's memory cap
// the command stops before it creates anything (no debug pod, no file), exit 13; and with -w DIR/
// a re-created pod of the same name (a StatefulSet's) gets a file of its own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  createNamespace,
  deleteNamespace,
  ensureNodes,
  httpGet,
  KUBECONFIG,
  kubectl,
  kubectlJson,
  readyNodes,
  runPod,
  waitFor,
  watchDebugPodsCreated,
} from '../helpers/cluster.ts';
import { collect, DEBUG_IMAGE, runPlugin, startPlugin, WEB_IMAGE } from '../helpers/plugin.ts';
import { tempDir } from '../helpers/temp.ts';

const skip = ensureNodes(2);
const ns = `e2e-limits-${process.pid}`;
const env = { KUBECONFIG };
const dir = tempDir('knetns-limits-');
const base = ['-n', ns, '--image', DEBUG_IMAGE];

/** A workload object of KIND with one pod of the web image, pinned by nodeSelector to NODE. */
function pinned(kind: 'Deployment' | 'StatefulSet', name: string, node: string): string {
  const labels = { app: name };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
      template: {
        metadata: { labels },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': node },
          terminationGracePeriodSeconds: 0,
          automountServiceAccountToken: false,
          containers: [{ name: 'main', image: WEB_IMAGE, imagePullPolicy: 'IfNotPresent' }],
        },
      },
    },
  });
}

/** The running pod of app=NAME (its name, UID and IP), once there is exactly one. */
function onePod(name: string, notUid?: string): Promise<{ name: string; uid: string; ip: string }> {
  return waitFor(`one running pod of ${name}`, async () => {
    const pods = kubectlJson(['get', 'pods', '-n', ns, '-l', `app=${name}`]).items.filter(
      (p: any) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && p.metadata.uid !== notUid,
    );
    return pods.length === 1
      ? { name: pods[0].metadata.name, uid: pods[0].metadata.uid, ip: pods[0].status.podIP }
      : undefined;
  });
}

describe('the limits of one capture', { skip, timeout: 600_000 }, () => {
  let nodes: string[] = [];

  before(async () => {
    nodes = readyNodes();
    await createNamespace(ns);
  });

  after(async () => {
    await deleteNamespace(ns);
  });

  test('--follow of a Deployment pinned to node 2 starts a debug pod there only', async () => {
    const node2 = nodes[1]!;
    kubectl(['create', '-f', '-'], pinned('Deployment', 'pinned', node2));
    await onePod('pinned');
    const created = watchDebugPodsCreated(ns);
    const r = await runPlugin(
      ['capture', 'deploy/pinned', ...base, '--follow', '-w', join(dir, 'pinned.pcapng'), '--duration', '8s'],
      {
        env,
        timeoutMs: 180_000,
      },
    );
    // The watch reports each change of a pod: one name per pod.
    const pods = [...new Set(await created.stop())];
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`armed on node ${node2}: a pod that appears there now`));
    for (const n of nodes.filter((x) => x !== node2)) assert.doesNotMatch(r.stderr, new RegExp(`\\b${n}\\b(?!2)`));
    assert.equal(pods.length, 1, `debug pods created: ${pods.join(', ')}`);
  });

  test('a selector over --max-targets (default 5) is refused before anything is created: exit 13, count and flag', async () => {
    for (let i = 0; i < 6; i++)
      await runPod(ns, `many-${i}`, WEB_IMAGE, { labels: { app: 'many' }, nodeName: nodes[i % nodes.length] });
    const created = watchDebugPodsCreated(ns);
    const file = join(dir, 'many.pcapng');
    const r = await runPlugin(['capture', '-l', 'app=many', ...base, '-w', file], { env });
    assert.equal(r.code, 13, r.stderr);
    assert.match(r.stderr, /6 pods match -l app=many, more than --max-targets allows \(5\)/);
    assert.match(r.stderr, /--max-targets 6/);
    assert.doesNotMatch(r.stderr, /starting debug pod/);
    assert.equal(r.stderr.trim().split('\n').length, 2, r.stderr);
    assert.ok(!existsSync(file), 'no file');
    assert.deepEqual(await created.stop(), []);
  });

  test('--max-nodes 1 with pods on every node, and a --buffer-size over the memory cap: refused before anything, exit 13', async () => {
    const created = watchDebugPodsCreated(ns);
    const nodesOver = await runPlugin(
      ['capture', '-l', 'app=many', ...base, '--max-targets', '6', '--max-nodes', '1', '-w', join(dir, 'n.pcapng')],
      { env },
    );
    assert.equal(nodesOver.code, 13, nodesOver.stderr);
    assert.match(
      nodesOver.stderr,
      new RegExp(
        `capturing these 6 pods would start a debug pod on each of ${nodes.length} nodes, more than --max-nodes allows \\(1\\)`,
      ),
    );
    assert.match(nodesOver.stderr, new RegExp(`--max-nodes ${nodes.length}\\b`));
    const memory = await runPlugin(['capture', 'many-0', ...base, '--buffer-size', '2000', '-w', join(dir, 'm.pcap')], {
      env,
    });
    assert.equal(memory.code, 13, memory.stderr);
    assert.match(
      memory.stderr,
      /a capture with --buffer-size 2000 MiB needs 2160 MiB in the debug pod on node \S+, more than a debug pod may have \(2048 MiB\)/,
    );
    assert.deepEqual(await created.stop(), []);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('n.') || f.startsWith('m.')),
      [],
    );
  });

  test('-w DIR/ --follow --overwrite: a StatefulSet pod re-created under its name gets its own file; the first stays', async () => {
    const node1 = nodes[0]!;
    kubectl(['create', '-f', '-'], pinned('StatefulSet', 'db', node1));
    const first = await onePod('db');
    const out = join(dir, 'per-pod');
    execFileSync('mkdir', ['-p', out]);
    const child = startPlugin(
      ['capture', 'sts/db', ...base, '--follow', '--overwrite', '-w', `${out}/`, '--duration', '60s'],
      { env },
    );
    const done = collect(child, 180_000);
    let said = '';
    child.stderr!.on('data', (c: Buffer) => (said += c.toString()));
    // Both, in whichever order they come: the pod is captured, and a capture waits for its successor.
    await waitFor('the capture and the armed capture', async () =>
      new RegExp(`capturing ${ns}/db-0 on `).test(said) && /armed on node/.test(said) ? true : undefined,
    );
    await httpGet(`http://${first.ip}:8080/index.html?incarnation=1`);
    kubectl(['delete', 'pod', '-n', ns, 'db-0', '--wait=false']);
    const second = await onePod('db', first.uid);
    await waitFor('the new pod taken', async () =>
      new RegExp(`new pod ${ns}/db-0 on node ${node1}; capturing it from its birth`).test(said) ? true : undefined,
    );
    // Until the new pod's capture listens (it follows the pod's sandbox), requests may go unseen.
    for (let i = 0; i < 10; i++) {
      await httpGet(`http://${second.ip}:8080/index.html?incarnation=2`).catch(() => {});
      await new Promise((r) => setTimeout(r, 300));
    }
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.doesNotMatch(r.stderr, /already exists|EEXIST/);
    const files = readdirSync(out).sort();
    assert.deepEqual(files, [`${ns}_db-0.${second.uid.replaceAll('-', '').slice(0, 8)}.pcap`, `${ns}_db-0.pcap`]);
    const uris = (f: string) =>
      execFileSync('tshark', ['-r', join(out, f), '-Y', 'http.request', '-T', 'fields', '-e', 'http.request.uri'], {
        encoding: 'utf8',
      });
    assert.match(uris(`${ns}_db-0.pcap`), /incarnation=1/);
    assert.doesNotMatch(uris(`${ns}_db-0.pcap`), /incarnation=2/);
    assert.match(uris(files[0]!), /incarnation=2/);
  });
});
