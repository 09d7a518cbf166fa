// inspect's report from a real node scan and netinfo (fixtures captured on this machine): PIDs of
// the sandbox and the container, the veth's host side, routes, sockets; documented shape; text layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildNetnsTable } from '../../../src/node/netns-table.ts';
import { parseNetinfo } from '../../../src/node/netinfo.ts';
import { parseScan } from '../../../src/node/scan.ts';
import { buildInspect, renderInspect, type InspectInput } from '../../../src/output/inspect-view.ts';
import { checkShape, documentedShape } from '../../helpers/shape.ts';

const facts = parseScan(readFileSync(new URL('../node/fixtures/scan-knetns-node.txt', import.meta.url), 'utf8'));
// netinfo-web.txt was taken from the pod e2e-capture-10050/web (sandbox 10133, httpd 10167).
const netinfo = parseNetinfo(readFileSync(new URL('../node/fixtures/netinfo-web.txt', import.meta.url), 'utf8'), true);
const uid = '852025f0-2c63-42cd-b567-7b0a8b201898';
const entries = buildNetnsTable(facts, [{ namespace: 'e2e-capture-10050', name: 'web', uid, containerIds: [] }]);

const input: InspectInput = {
  pod: {
    namespace: 'e2e-capture-10050',
    name: 'web',
    uid,
    ip: '10.214.0.66',
    ips: ['10.214.0.66'],
    hostNetwork: false,
  },
  node: 'knetns-node',
  runtime: 'containerd',
  containers: [{ name: 'main', id: '4dc3cb7faf425605c871ed274da6e684278b9b1adc1a0022b93ed259c624f818' }],
  netnsInode: '4026532257',
  facts,
  entry: entries.find((e) => e.inode === '4026532257'),
  netinfo,
};

test('buildInspect: sandbox and container PIDs, interfaces with the host side, routes, sockets', () => {
  const r = buildInspect(input);
  checkShape(r, documentedShape('NetnsInspect'));
  assert.deepEqual(r.sandbox, {
    id: '34bb62bf8d095907f47d10183097f286b8d44be8567c3d07493dd0c2455aa34d',
    pid: 10133,
    command: 'pause',
  });
  assert.deepEqual(r.containers, [
    {
      name: 'main',
      id: '4dc3cb7faf425605c871ed274da6e684278b9b1adc1a0022b93ed259c624f818',
      pid: 10167,
      command: 'httpd',
    },
  ]);
  assert.deepEqual(r.netns, {
    inode: 4026532257,
    state: 'pod',
    paths: [
      '/run/kubectl-netns/containerd/state/io.containerd.grpc.v1.cri/netns/cni-4d9ee4af-bc0d-9c91-4c92-8151b2f82cda',
    ],
    enter: 'nsenter -t 10133 -n',
  });
  const eth0 = r.interfaces.find((i) => i.name === 'eth0')!;
  assert.deepEqual(eth0.hostPeer, { name: 'vethcaecb4b0', index: 192, bridge: 'knetns0' });
  assert.deepEqual(eth0.addresses.slice(0, 1), ['10.214.0.66/24']);
  assert.equal(r.interfaces.find((i) => i.name === 'lo')!.hostPeer, null);
  assert.equal(r.routes.length, 3);
  assert.deepEqual(r.sockets?.[0]?.processes, [{ command: 'httpd', pid: 10167 }]);
});

test('renderInspect: a summary, then aligned tables; sockets only when collected', () => {
  const text = renderInspect(buildInspect(input), 'wide', false);
  assert.match(text, /^Pod: +e2e-capture-10050\/web \(uid 852025f0-2c63-42cd-b567-7b0a8b201898\)$/m);
  assert.match(text, /^Container main: +4dc3cb7faf425 +pid 10167 \(httpd\)$/m);
  assert.match(text, /^eth0 +2 +veth +UP +\S+ +1500 +10\.214\.0\.66\/24,fe80::\S+ +vethcaecb4b0 +192 +knetns0$/m);
  assert.match(
    text,
    /^Listening sockets:\nPROTO +STATE +LOCAL +PEER +PROCESS\ntcp +LISTEN +\*:8080 +\*:\* +httpd\/10167$/m,
  );
  assert.doesNotMatch(text, /\x1b\[/);
  const narrow = renderInspect(buildInspect({ ...input, netinfo: parseNetinfo('', false) }), 'table', false);
  assert.doesNotMatch(narrow, /Listening sockets/);
  assert.equal(JSON.parse(renderInspect(buildInspect(input), 'json', false)).kind, 'NetnsInspect');
});

test('renderInspect on a routed CNI: a host veth on no bridge says "no bridge", JSON keeps bridge null', () => {
  // The same node, as a routed CNI (Calico, Cilium, ptp) leaves it: the host veth is a port of nothing.
  const routed = structuredClone(facts);
  for (const list of routed.interfaces.values())
    for (const i of list) if (i.name === 'vethcaecb4b0') i.master = undefined;
  const r = buildInspect({ ...input, facts: routed });
  assert.deepEqual(r.interfaces.find((i) => i.name === 'eth0')!.hostPeer, {
    name: 'vethcaecb4b0',
    index: 192,
    bridge: null,
  });
  const text = renderInspect(r, 'table', false);
  assert.match(text, /^eth0 .* vethcaecb4b0 +192 +no bridge$/m);
  assert.match(text, /^lo .* <none> +<none> +<none>$/m, 'no host side at all stays <none>');
});

test('renderInspect of a dual-stack pod names both of its addresses', () => {
  const ips = ['10.214.0.66', 'fd6b:6e01:0:2::42'];
  const text = renderInspect(buildInspect({ ...input, pod: { ...input.pod, ips } }), 'table', false);
  assert.match(text, /^Pod IPs: +10\.214\.0\.66, fd6b:6e01:0:2::42$/m);
});
