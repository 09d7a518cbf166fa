// iproute2 parsers on real output from this machine: `ip -j -d addr show` of a pod's namespace and
// of the node (from fixtures/scan-knetns-node.txt), `ip -j route show` of the same pod
// (fixtures/netinfo-web.txt), and `ss -H -tulpn` lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cidr, parseIpAddr, parseRoutes, parseSsLine } from '../../../src/node/iproute.ts';

const SCAN = readFileSync(new URL('./fixtures/scan-knetns-node.txt', import.meta.url), 'utf8');
const NETINFO = readFileSync(new URL('./fixtures/netinfo-web.txt', import.meta.url), 'utf8');
const ipaddrOf = (inode: string) =>
  SCAN.split('\n')
    .find((l) => l.startsWith(`ipaddr\t${inode}\t`))!
    .split('\t')[2]!;

test("parseIpAddr: a pod's lo and eth0 (a veth whose peer is ifindex 127 on the node)", () => {
  const ifs = parseIpAddr(ipaddrOf('4026532180'));
  assert.deepEqual(ifs, [
    {
      index: 1,
      name: 'lo',
      kind: undefined,
      mac: '00:00:00:00:00:00',
      mtu: 65536,
      state: 'UNKNOWN',
      flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
      master: undefined,
      peerIndex: undefined,
      peerNetnsId: undefined,
      addresses: [
        { family: 'inet', address: '127.0.0.1', prefixlen: 8, scope: 'host' },
        { family: 'inet6', address: '::1', prefixlen: 128, scope: 'host' },
      ],
    },
    {
      index: 2,
      name: 'eth0',
      kind: 'veth',
      mac: 'ce:1f:af:6b:cb:18',
      mtu: 1500,
      state: 'UP',
      flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
      master: undefined,
      peerIndex: 127,
      peerNetnsId: 0,
      addresses: [
        { family: 'inet', address: '10.214.0.4', prefixlen: 24, scope: 'global' },
        { family: 'inet6', address: 'fe80::cc1f:afff:fe6b:cb18', prefixlen: 64, scope: 'link' },
      ],
    },
  ]);
  assert.equal(cidr(ifs[1]!.addresses[0]!), '10.214.0.4/24');
});

test('parseIpAddr: the node, with a bridge, its veth ports and a veth pair inside the node', () => {
  const ifs = parseIpAddr(ipaddrOf('4026531833'));
  const by = (name: string) => ifs.find((i) => i.name === name)!;
  assert.equal(by('knetns0').kind, 'bridge');
  assert.deepEqual(
    by('knetns0')
      .addresses.filter((a) => a.family === 'inet')
      .map(cidr),
    ['10.214.0.1/24'],
  );
  const port = by('veth7427248c');
  assert.deepEqual(
    [port.index, port.kind, port.master, port.peerIndex, port.peerNetnsId],
    [127, 'veth', 'knetns0', 2, 0],
  );
  // Both ends in the node: ip writes "link": NAME, not link_index/link_netnsid.
  assert.deepEqual([by('knetns-node').peerIndex, by('knetns-node').peerNetnsId], [undefined, undefined]);
  assert.equal(by('ifb0').state, 'DOWN');
});

test('parseIpAddr: ip -j link (no addr_info), junk entries skipped, non-JSON rejected', () => {
  assert.deepEqual(
    parseIpAddr('[{"ifindex":3,"ifname":"x"},{"foo":1},null]').map((i) => [i.name, i.addresses.length, i.state]),
    [['x', 0, 'UNKNOWN']],
  );
  assert.throws(() => parseIpAddr('Object "addr" is unknown'), /not JSON/);
  assert.throws(() => parseIpAddr('{}'), /expected a JSON array/);
});

test("parseRoutes: the pod's IPv4 and IPv6 routes", () => {
  const lines = NETINFO.split('\n');
  const v4 = parseRoutes(lines.find((l) => l.startsWith('route\t4\t'))!.split('\t')[2]!, 4);
  assert.deepEqual(v4, [
    {
      family: 4,
      dst: '10.213.0.0/24',
      gateway: '10.214.0.1',
      dev: 'eth0',
      protocol: undefined,
      scope: undefined,
      prefsrc: undefined,
      metric: undefined,
    },
    {
      family: 4,
      dst: '10.214.0.0/24',
      gateway: undefined,
      dev: 'eth0',
      protocol: 'kernel',
      scope: 'link',
      prefsrc: '10.214.0.66',
      metric: undefined,
    },
  ]);
  const v6 = parseRoutes(lines.find((l) => l.startsWith('route\t6\t'))!.split('\t')[2]!, 6);
  assert.deepEqual(v6, [
    {
      family: 6,
      dst: 'fe80::/64',
      gateway: undefined,
      dev: 'eth0',
      protocol: 'kernel',
      scope: undefined,
      prefsrc: undefined,
      metric: 256,
    },
  ]);
});

test('parseSsLine: real ss -H -tulpn lines, with and without the owning process', () => {
  assert.deepEqual(parseSsLine('tcp LISTEN 0      9      *:8080 *:* users:(("httpd",pid=10167,fd=3))'), {
    netid: 'tcp',
    state: 'LISTEN',
    local: '*:8080',
    peer: '*:*',
    processes: [{ command: 'httpd', pid: 10167 }],
  });
  assert.deepEqual(
    parseSsLine('udp UNCONN 0      0               *:5353        *:* users:(("python3",pid=27242,fd=3))        '),
    {
      netid: 'udp',
      state: 'UNCONN',
      local: '*:5353',
      peer: '*:*',
      processes: [{ command: 'python3', pid: 27242 }],
    },
  );
  assert.deepEqual(
    parseSsLine('tcp LISTEN 0      128       0.0.0.0:2024  0.0.0.0:*                                           ')
      ?.processes,
    [],
  );
  assert.deepEqual(
    parseSsLine('tcp LISTEN 0 511 [::]:80 [::]:* users:(("nginx",pid=7,fd=6),("nginx",pid=1,fd=6))')?.processes,
    [
      { command: 'nginx', pid: 7 },
      { command: 'nginx', pid: 1 },
    ],
  );
  assert.equal(parseSsLine('Netid State'), undefined);
});
