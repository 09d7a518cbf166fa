// The agent's `scan` output as it came from the local cluster's node (fixtures/scan-knetns-node.txt,
// captured with dash on this machine while three pods ran, with a namespace held only by a bind
// mount in another process's mount namespace and one mounted under /run/docker/netns that a
// libcni cache entry attributes to a pod), parsed into facts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseCniCache, parseScan, unescapeMountinfo } from '../../../src/node/scan.ts';

const SCAN = readFileSync(new URL('./fixtures/scan-knetns-node.txt', import.meta.url), 'utf8');

test('parseScan: the agent, the node (kthreadd: PID 1 is unreadable here) and every process', () => {
  const f = parseScan(SCAN);
  assert.deepEqual(f.self, { pid: 26940, netns: '4026531833', mntns: '4026531832' });
  assert.deepEqual(f.host, { pid: 2, netns: '4026531833', mntns: '4026531832' });
  assert.equal(f.procs.length, 102);
  assert.deepEqual(
    f.procs.find((p) => p.pid === 20440),
    {
      pid: 20440,
      netns: '4026532180',
      mntns: '4026532251',
      comm: 'pause',
      podUid: '8c9ee550-beaf-4c16-a94f-c7d881d918d1',
      containerId: '4b425838cac1584fdd7bbf102c3936a1bb07f37cd8fe9ecd3c59741ae536bbfa',
    },
  );
  assert.deepEqual(
    f.procs.find((p) => p.pid === 2),
    { pid: 2, netns: '4026531833', mntns: '4026531832', comm: 'kthreadd', podUid: undefined, containerId: undefined },
  );
  assert.equal(f.namespaces, 6);
  assert.deepEqual(f.warnings, []);
});

test("parseScan: nsfs mounts in the node's mount namespace and in the holder's private one; /run/docker/netns files", () => {
  const f = parseScan(SCAN);
  assert.deepEqual(
    f.mounts.find((m) => m.netns === '4026532410'),
    { holder: 26930, mntns: '4026532481', netns: '4026532410', mountpoint: '/tmp/knt-held-jSMNK1/net' },
  );
  assert.equal(f.mounts.filter((m) => m.mntns === '4026531832').length, 4);
  assert.deepEqual(f.files, [{ path: '/run/docker/netns/knt-0f1e2d3c4b5a', netns: '4026532482' }]);
});

test('parseScan: interfaces of every namespace, read once each', () => {
  const f = parseScan(SCAN);
  assert.deepEqual([...f.interfaces.keys()].sort(), [
    '4026531833',
    '4026532180',
    '4026532257',
    '4026532334',
    '4026532410',
    '4026532482',
  ]);
  const orphan = f.interfaces.get('4026532410')!;
  assert.deepEqual(
    orphan.map((i) => i.name),
    ['lo', 'knt-leak0'],
  );
  assert.equal(orphan[1]!.peerIndex, 212);
  assert.deepEqual(
    orphan[1]!.addresses.find((a) => a.family === 'inet'),
    { family: 'inet', address: '10.232.7.9', prefixlen: 24, scope: 'global' },
  );
});

test('parseScan: libcni cache entries, the base64 config removed by the agent', () => {
  const f = parseScan(SCAN);
  assert.equal(f.cni.length, 7);
  const web = f.cni.find(
    (c) => c.file === 'knetns-4b425838cac1584fdd7bbf102c3936a1bb07f37cd8fe9ecd3c59741ae536bbfa-eth0',
  );
  assert.deepEqual(web, {
    file: 'knetns-4b425838cac1584fdd7bbf102c3936a1bb07f37cd8fe9ecd3c59741ae536bbfa-eth0',
    containerId: '4b425838cac1584fdd7bbf102c3936a1bb07f37cd8fe9ecd3c59741ae536bbfa',
    ifName: 'eth0',
    podNamespace: 'knt-explore',
    podName: 'web',
    podUid: '8c9ee550-beaf-4c16-a94f-c7d881d918d1',
    sandboxes: [
      '/run/kubectl-netns/containerd/state/io.containerd.grpc.v1.cri/netns/cni-a9c6a25c-5e69-aa0d-1192-f7217010a766',
    ],
    ips: ['10.214.0.4/24'],
  });
  assert.doesNotMatch(SCAN, /"config":"/);
  const gone = f.cni.find((c) => c.sandboxes.includes('/run/docker/netns/knt-0f1e2d3c4b5a'));
  assert.equal(gone?.podName, 'gone-7d9');
});

test('parseScan refuses output cut short or not from scan, and bad inodes', () => {
  const cut = SCAN.slice(0, SCAN.indexOf('\ndone\t'));
  assert.throws(() => parseScan(cut), /ended early/);
  assert.throws(() => parseScan(''), /not the output of the agent's scan/);
  assert.throws(() => parseScan('kubectl-netns-agent: error: NO_IP: x\n'), /not the output/);
  assert.throws(() => parseScan('self\t1\tnet:[1]\t-\ndone\t0\n'), /bad namespace inode/);
  assert.throws(() => parseScan('self\t0\t4026531833\t-\ndone\t0\n'), /bad pid/);
  // Unknown records (a newer agent) and a namespace whose ip failed are not fatal.
  const f = parseScan(
    'self\t5\t4026531833\t-\nfuture\tx\nipaddr\t4026531833\tgarbage\nwarn\tcannot read the interfaces of netns 4026532999: nsenter: No such process\ndone\t1\n',
  );
  assert.equal(f.interfaces.size, 0);
  assert.equal(f.host, undefined);
  assert.equal(f.warnings.length, 2);
});

test('unescapeMountinfo: a real line with a space and a backslash (/tmp/knt a\\b/n)', () => {
  // From /proc/self/mountinfo: "251 187 0:4 net:[4026531833] /tmp/knt\040a\134b/n rw - nsfs nsfs rw"
  assert.equal(unescapeMountinfo('/tmp/knt\\040a\\134b/n'), '/tmp/knt a\\b/n');
  assert.equal(unescapeMountinfo('/run/netns/cni-1'), '/run/netns/cni-1');
  const f = parseScan('self\t5\t4026531833\t-\nmount\t7\t4026532481\t4026532410\t/tmp/knt\\040a\\134b/n\ndone\t1\n');
  assert.equal(f.mounts[0]!.mountpoint, '/tmp/knt a\\b/n');
});

test('parseCniCache: not a cache entry gives undefined; missing fields are undefined', () => {
  assert.equal(parseCniCache('x', 'not json'), undefined);
  assert.equal(parseCniCache('x', '42'), undefined);
  assert.deepEqual(parseCniCache('x', '{"kind":"cniCacheV1"}'), {
    file: 'x',
    containerId: undefined,
    ifName: undefined,
    podNamespace: undefined,
    podName: undefined,
    podUid: undefined,
    sandboxes: [],
    ips: [],
  });
});
