// From the node scan (fixtures/scan-knetns-node.txt, real) and the API's pods to one entry per
// network namespace: states, owners, paths, holders, enter commands, and the host side of veths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildNetnsTable, hostNetns, hostPeers, shellQuote, type PodRef } from '../../../src/node/netns-table.ts';
import { parseScan, type ScanFacts } from '../../../src/node/scan.ts';

const facts = parseScan(readFileSync(new URL('./fixtures/scan-knetns-node.txt', import.meta.url), 'utf8'));

// The pods the API had on the node when the fixture was captured.
const WEB: PodRef = {
  namespace: 'knt-explore',
  name: 'web',
  uid: '8c9ee550-beaf-4c16-a94f-c7d881d918d1',
  containerIds: ['b61aaf52de63831b9aeeba7b79c0de9b4eb2f557f26cf740d7be2149fef7fcc4'],
};
const E2E_WEB: PodRef = {
  namespace: 'e2e-capture-10050',
  name: 'web',
  uid: '852025f0-2c63-42cd-b567-7b0a8b201898',
  containerIds: [],
};
const E2E_DEBUG: PodRef = {
  namespace: 'e2e-capture-10050',
  name: 'netns-web-3e790b',
  uid: '98d16aeb-f568-4c48-b798-1b3de44bd6cc',
  containerIds: [],
};
const PODS = [WEB, E2E_WEB, E2E_DEBUG];

test('one entry per namespace, the node first, each with the right state', () => {
  const t = buildNetnsTable(facts, PODS);
  assert.deepEqual(
    t.map((e) => [e.inode, e.state, e.owner ? `${e.owner.namespace}/${e.owner.name}` : '-', e.procs.length]),
    [
      ['4026531833', 'host', '-', 94],
      ['4026532180', 'pod', 'knt-explore/web', 2],
      ['4026532257', 'pod', 'e2e-capture-10050/web', 3],
      ['4026532334', 'pod', 'e2e-capture-10050/netns-web-3e790b', 3],
      ['4026532410', 'orphaned', '-', 0],
      ['4026532482', 'stale', 'shop/gone-7d9', 0],
    ],
  );
  assert.equal(hostNetns(facts), '4026531833');
});

test('a pod: owner from its cgroups, path from the node mount table, entered through its lowest PID', () => {
  const web = buildNetnsTable(facts, PODS).find((e) => e.inode === '4026532180')!;
  assert.deepEqual(web.owner, { namespace: 'knt-explore', name: 'web', uid: WEB.uid, source: 'cgroup', inApi: true });
  assert.deepEqual(web.paths, [
    '/run/kubectl-netns/containerd/state/io.containerd.grpc.v1.cri/netns/cni-a9c6a25c-5e69-aa0d-1192-f7217010a766',
  ]);
  assert.deepEqual(
    web.procs.map((p) => `${p.pid} ${p.comm}`),
    ['20440 pause', '20470 httpd'],
  );
  assert.equal(web.enter, 'nsenter -t 20440 -n');
  assert.deepEqual(web.holders, []);
});

test('a pod the API no longer has: stale, named from the CNI cache by the UID its processes carry', () => {
  const t = buildNetnsTable(facts, [WEB, E2E_WEB]);
  const gone = t.find((e) => e.inode === '4026532334')!;
  assert.equal(gone.state, 'stale');
  assert.deepEqual(gone.owner, {
    namespace: 'e2e-capture-10050',
    name: 'netns-web-3e790b',
    uid: E2E_DEBUG.uid,
    source: 'cgroup',
    inApi: false,
  });
  // A same-named pod with a new UID is a different pod: still stale.
  const renamed = buildNetnsTable(facts, [WEB, E2E_WEB, { ...E2E_DEBUG, uid: 'ffffffff-0000-0000-0000-000000000000' }]);
  assert.equal(renamed.find((e) => e.inode === '4026532334')!.state, 'stale');
});

test("orphaned: no process, the only mount in a sleep's private mount namespace: orphaned, with a node path that enters it", () => {
  const o = buildNetnsTable(facts, PODS).find((e) => e.inode === '4026532410')!;
  assert.deepEqual(o.paths, ['/proc/26930/root/tmp/knt-held-jSMNK1/net']);
  assert.deepEqual(o.holders, [{ pid: 26930, comm: 'sleep', mntns: '4026532481', processes: 1 }]);
  assert.equal(o.enter, 'nsenter --net=/proc/26930/root/tmp/knt-held-jSMNK1/net');
  assert.equal(o.owner, undefined);
  assert.deepEqual(
    o.interfaces?.map((i) => i.name),
    ['lo', 'knt-leak0'],
  );
});

test('a /run/docker/netns file with no process: stale via the CNI cache; orphaned if its pod still exists', () => {
  const d = buildNetnsTable(facts, PODS).find((e) => e.inode === '4026532482')!;
  assert.deepEqual(d.paths, ['/run/docker/netns/knt-0f1e2d3c4b5a']);
  assert.deepEqual(d.owner, {
    namespace: 'shop',
    name: 'gone-7d9',
    uid: '6f1c2b7e-2d55-4c1e-9a3f-0c0ffee00001',
    source: 'cni',
    inApi: false,
  });
  const pod: PodRef = {
    namespace: 'shop',
    name: 'gone-7d9',
    uid: '6f1c2b7e-2d55-4c1e-9a3f-0c0ffee00001',
    containerIds: [],
  };
  assert.equal(buildNetnsTable(facts, [...PODS, pod]).find((e) => e.inode === '4026532482')!.state, 'orphaned');
});

test('host ends of veths: the peer index must point back', () => {
  assert.deepEqual(
    [...hostPeers(facts, '4026532180')],
    [['eth0', { name: 'veth7427248c', index: 127, master: 'knetns0' }]],
  );
  assert.deepEqual(
    [...hostPeers(facts, '4026532257')],
    [['eth0', { name: 'vethcaecb4b0', index: 192, master: 'knetns0' }]],
  );
  assert.deepEqual(
    [...hostPeers(facts, '4026532410')],
    [['knt-leak0', { name: 'knt-409d33h', index: 212, master: 'knt-c2642db' }]],
  );
  assert.deepEqual([...hostPeers(facts, '4026531833')], [], 'the node has no host side');
  // Same ifindex on the node, but it points elsewhere: no match (ifindexes are per namespace).
  const ifs = facts.interfaces.get('4026532180')!.map((i) => (i.name === 'eth0' ? { ...i, index: 9 } : i));
  const skewed: ScanFacts = { ...facts, interfaces: new Map([...facts.interfaces, ['4026532180', ifs]]) };
  assert.deepEqual([...hostPeers(skewed, '4026532180')], []);
});

test('ownership without a pod UID in the cgroups: by container id, static pods by mirror UID', () => {
  const base: ScanFacts = { ...facts, procs: [], mounts: [], files: [], cni: [], interfaces: new Map(), namespaces: 0 };
  const proc = {
    pid: 900,
    netns: '4026533000',
    mntns: '4026533001',
    comm: 'app',
    podUid: undefined,
    containerId: 'c'.repeat(64),
  };
  const byId = buildNetnsTable({ ...base, procs: [proc] }, [
    { namespace: 'a', name: 'b', uid: 'u', containerIds: ['c'.repeat(64)] },
  ]);
  assert.deepEqual(byId.find((e) => e.inode === '4026533000')!.owner, {
    namespace: 'a',
    name: 'b',
    uid: 'u',
    source: 'container-id',
    inApi: true,
  });
  const mirror = buildNetnsTable({ ...base, procs: [{ ...proc, podUid: 'static-hash-uid' }] }, [
    { namespace: 'kube-system', name: 'etcd-n1', uid: 'api-uid', mirrorUid: 'static-hash-uid', containerIds: [] },
  ]);
  assert.equal(mirror.find((e) => e.inode === '4026533000')!.state, 'pod');
  const other = buildNetnsTable({ ...base, procs: [proc] }, []);
  assert.equal(other.find((e) => e.inode === '4026533000')!.state, 'other');
});

test("without a readable PID 1 or kthreadd the agent's own namespace is the node's (hostNetwork)", () => {
  const t = buildNetnsTable({ ...facts, host: undefined }, PODS);
  assert.equal(t[0]!.inode, facts.self.netns);
  assert.equal(t[0]!.state, 'host');
});

test('shellQuote: plain paths as they are, anything else single-quoted', () => {
  assert.equal(shellQuote('/run/netns/cni-1'), '/run/netns/cni-1');
  assert.equal(shellQuote("/tmp/a b/it's"), `'/tmp/a b/it'\\''s'`);
  assert.equal(shellQuote('$(id)'), `'$(id)'`);
});
