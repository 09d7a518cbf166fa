// The hop plan from what the agent's `route` op prints on each end's node (records as agent.sh's
// header documents them, in the shapes `ip -j` prints on the local cluster's nodes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planHops, type PathEnd } from '../../../src/path/hops.ts';
import { parseRouteOutput } from '../../../src/node/route.ts';

function routeOut(o: {
  podDev?: string;
  podGw?: string;
  peer?: [string, string];
  nodeDev: string;
  nodeGw?: string;
  kind: string;
  master?: string;
}): string {
  const lines = ['pid\t4242\t4026532257'];
  if (o.podDev) {
    lines.push(
      `route\t[{"dst":"10.214.1.5",${o.podGw ? `"gateway":"${o.podGw}",` : ''}"dev":"${o.podDev}","prefsrc":"10.214.0.7","flags":[],"uid":0,"cache":[]}]`,
    );
    lines.push(o.peer ? `peer\t${o.podDev}\t${o.peer[0]}\t${o.peer[1]}` : `nopeer\t${o.podDev}\tNO_PEER: not a veth`);
  }
  lines.push(
    `noderoute\t[{"dst":"10.214.1.5",${o.nodeGw ? `"gateway":"${o.nodeGw}",` : ''}"dev":"${o.nodeDev}","prefsrc":"10.213.0.1","flags":[],"uid":0,"cache":[]}]`,
  );
  lines.push(
    `nodelink\t[{"ifindex":7,"ifname":"${o.nodeDev}","flags":["UP"],"mtu":1500,"operstate":"UP",${o.master ? `"master":"${o.master}",` : ''}"linkinfo":{"info_kind":"${o.kind}"},"addr_info":[]}]`,
  );
  return lines.join('\n');
}

function pod(name: string, node: string, out: string, hostNetwork = false): PathEnd {
  return {
    kind: 'pod',
    namespace: 'shop',
    pod: name,
    podUid: `uid-${name}`,
    containerIds: ['containerd://abc'],
    node,
    hostNetwork,
    routes: parseRouteOutput(out),
  };
}

test('two nodes: inside, veth and uplink on each side, SRC outward then DST inward', () => {
  const src = pod(
    'client',
    'n1',
    routeOut({
      podDev: 'eth0',
      podGw: '10.214.0.1',
      peer: ['vethaa', 'knetns0'],
      nodeDev: 'knetns-node',
      nodeGw: '10.213.0.2',
      kind: 'veth',
    }),
  );
  const dst = pod(
    'web',
    'n2',
    routeOut({
      podDev: 'eth0',
      podGw: '10.214.1.1',
      peer: ['vethbb', 'knetns0'],
      nodeDev: 'eth0',
      nodeGw: '10.213.0.1',
      kind: 'veth',
    }),
  );
  const p = planHops(src, dst);
  assert.deepEqual(
    p.hops.map((h) => [h.node, h.role, h.iface, h.side]),
    [
      ['n1', 'pod', 'eth0', 'src'],
      ['n1', 'veth', 'vethaa', 'src'],
      ['n1', 'node', 'knetns-node', 'src'],
      ['n2', 'node', 'eth0', 'dst'],
      ['n2', 'veth', 'vethbb', 'dst'],
      ['n2', 'pod', 'eth0', 'dst'],
    ],
  );
  assert.equal(p.firstDstHop, 3);
  assert.deepEqual(
    p.hops.map((h) => h.name),
    [
      'n1/shop/client/eth0',
      'n1/vethaa (host side of shop/client eth0)',
      'n1/knetns-node',
      'n2/eth0',
      'n2/vethbb (host side of shop/web eth0)',
      'n2/shop/web/eth0',
    ],
  );
  assert.match(p.hops[1]!.description, /bridge knetns0/);
});

test('one node, one bridge: neighbours meet at layer 2, so the bridge is no hop', () => {
  const src = pod(
    'client',
    'n1',
    routeOut({ podDev: 'eth0', peer: ['vethaa', 'knetns0'], nodeDev: 'knetns0', kind: 'bridge' }),
  );
  const dst = pod(
    'web',
    'n1',
    routeOut({ podDev: 'eth0', peer: ['vethbb', 'knetns0'], nodeDev: 'knetns0', kind: 'bridge' }),
  );
  const p = planHops(src, dst);
  assert.deepEqual(
    p.hops.map((h) => h.iface),
    ['eth0', 'vethaa', 'vethbb', 'eth0'],
  );
  assert.equal(p.notes.filter((n) => /layer 2/.test(n)).length, 2);
});

test('one node through a Service: routed through the bridge device, which is one hop for both sides', () => {
  const src = pod(
    'client',
    'n1',
    routeOut({ podDev: 'eth0', podGw: '10.214.0.1', peer: ['vethaa', 'knetns0'], nodeDev: 'knetns0', kind: 'bridge' }),
  );
  const dst = pod(
    'web',
    'n1',
    routeOut({ podDev: 'eth0', peer: ['vethbb', 'knetns0'], nodeDev: 'knetns0', kind: 'bridge' }),
  );
  const p = planHops(src, dst);
  assert.deepEqual(
    p.hops.map((h) => [h.role, h.iface]),
    [
      ['pod', 'eth0'],
      ['veth', 'vethaa'],
      ['node', 'knetns0'],
      ['veth', 'vethbb'],
      ['pod', 'eth0'],
    ],
  );
  assert.equal(p.firstDstHop, 3);
});

test('a routed node without a bridge: the route to the neighbour is its veth, named as its veth; "no bridge" said', () => {
  const src = pod(
    'client',
    'n3',
    routeOut({ podDev: 'eth0', podGw: '169.254.1.1', peer: ['cali1', '-'], nodeDev: 'cali2', kind: 'veth' }),
  );
  const dst = pod(
    'web',
    'n3',
    routeOut({ podDev: 'eth0', podGw: '169.254.1.1', peer: ['cali2', '-'], nodeDev: 'cali1', kind: 'veth' }),
  );
  const p = planHops(src, dst);
  assert.deepEqual(
    p.hops.map((h) => [h.role, h.iface, h.side]),
    [
      ['pod', 'eth0', 'src'],
      ['veth', 'cali1', 'src'],
      ['veth', 'cali2', 'dst'],
      ['pod', 'eth0', 'dst'],
    ],
  );
  assert.match(p.hops[1]!.description, /no bridge/);
  assert.equal(p.firstDstHop, 2);
});

test('to an address outside the cluster: SRC side only; from one: DST side only', () => {
  const src = pod(
    'client',
    'n1',
    routeOut({
      podDev: 'eth0',
      podGw: '10.214.0.1',
      peer: ['vethaa', 'knetns0'],
      nodeDev: 'knetns-node',
      kind: 'veth',
    }),
  );
  const out = planHops(src, { kind: 'ip', address: '10.213.0.250' });
  assert.deepEqual(
    out.hops.map((h) => h.iface),
    ['eth0', 'vethaa', 'knetns-node'],
  );
  assert.equal(out.firstDstHop, 3);
  const back = planHops({ kind: 'ip', address: '10.213.0.250' }, src);
  assert.deepEqual(
    back.hops.map((h) => h.iface),
    ['knetns-node', 'vethaa', 'eth0'],
  );
  assert.equal(back.firstDstHop, 0);
});

test('a hostNetwork pod is the node: its only hop is the node interface; a pod without a veth has no host-side hop', () => {
  const host = pod('agent', 'n1', routeOut({ nodeDev: 'knetns-node', kind: 'veth' }), true);
  const dst = pod('web', 'n2', routeOut({ podDev: 'eth0', podGw: '10.214.1.1', nodeDev: 'eth0', kind: 'veth' }));
  const p = planHops(host, dst);
  assert.deepEqual(
    p.hops.map((h) => [h.node, h.iface]),
    [
      ['n1', 'knetns-node'],
      ['n2', 'eth0'],
      ['n2', 'eth0'],
    ],
  );
  assert.ok(
    p.notes.some((n) => /no host-side hop for shop\/web: NO_PEER/.test(n)),
    p.notes.join('\n'),
  );
});
