// What `inspect` prints about one pod's network namespace: the JSON report (the shape docs/output.md
// documents) built from the node scan and netinfo, and its human-readable rendering.
import { cidr } from '../node/iproute.ts';
import { hostPeers, type NetnsEntry, type NetnsState } from '../node/netns-table.ts';
import type { NetInfo } from '../node/netinfo.ts';
import type { ScanFacts } from '../node/scan.ts';
import type { OutputFormat } from './formats.ts';
import { API_VERSION, cellOf } from './netns-views.ts';
import { safeText } from './terminal.ts';
import { renderDocument, renderNames } from './document.ts';
import { renderTable } from './table.ts';

export interface InspectReport {
  apiVersion: string;
  kind: 'NetnsInspect';
  pod: { namespace: string; name: string; uid: string; ip: string | null; ips: string[]; hostNetwork: boolean };
  node: string;
  runtime: string;
  netns: { inode: number; state: NetnsState | null; paths: string[]; enter: string };
  /** The pod's sandbox (pause) process: the one in the pod's cgroup that is none of its containers. */
  sandbox: { id: string | null; pid: number | null; command: string | null };
  containers: Array<{ name: string; id: string | null; pid: number | null; command: string | null }>;
  interfaces: Array<{
    name: string;
    index: number;
    kind: string | null;
    state: string;
    mac: string | null;
    mtu: number | null;
    addresses: string[];
    hostPeer: { name: string; index: number; bridge: string | null } | null;
  }>;
  routes: Array<{
    family: 4 | 6;
    dst: string;
    gateway: string | null;
    dev: string | null;
    protocol: string | null;
    scope: string | null;
    prefsrc: string | null;
  }>;
  /** Listening sockets (ss -tulpn); null unless asked for (-o wide, -o json). */
  sockets: Array<{
    netid: string;
    state: string;
    local: string;
    peer: string;
    processes: Array<{ command: string; pid: number }>;
  }> | null;
}

export interface InspectInput {
  pod: InspectReport['pod'];
  node: string;
  runtime: string;
  containers: Array<{ name: string; id: string | undefined }>;
  netnsInode: string;
  facts: ScanFacts;
  /** The scan's entry for the pod's namespace (undefined if the scan missed it). */
  entry: NetnsEntry | undefined;
  netinfo: NetInfo;
}

/** The report. Pure. */
export function buildInspect(i: InspectInput): InspectReport {
  const lowest = (pred: (p: ScanFacts['procs'][number]) => boolean) =>
    i.facts.procs.filter(pred).sort((a, b) => a.pid - b.pid)[0];
  const ids = new Set(i.containers.map((c) => c.id).filter((x): x is string => x !== undefined));
  const sandbox = lowest(
    (p) => p.podUid === i.pod.uid && p.netns === i.netnsInode && p.containerId !== undefined && !ids.has(p.containerId),
  );
  const peers = hostPeers(i.facts, i.netnsInode);
  return {
    apiVersion: API_VERSION,
    kind: 'NetnsInspect',
    pod: i.pod,
    node: i.node,
    runtime: i.runtime,
    netns: {
      inode: Number(i.netnsInode),
      state: i.entry?.state ?? null,
      paths: i.entry?.paths ?? [],
      enter: i.entry?.enter ?? '',
    },
    sandbox: { id: sandbox?.containerId ?? null, pid: sandbox?.pid ?? null, command: sandbox?.comm ?? null },
    containers: i.containers.map((c) => {
      const p = c.id === undefined ? undefined : lowest((x) => x.containerId === c.id);
      return { name: c.name, id: c.id ?? null, pid: p?.pid ?? null, command: p?.comm ?? null };
    }),
    interfaces: (i.facts.interfaces.get(i.netnsInode) ?? []).map((n) => {
      const peer = peers.get(n.name);
      return {
        name: n.name,
        index: n.index,
        kind: n.kind ?? null,
        state: n.state,
        mac: n.mac ?? null,
        mtu: n.mtu ?? null,
        addresses: n.addresses.map(cidr),
        hostPeer: peer ? { name: peer.name, index: peer.index, bridge: peer.master ?? null } : null,
      };
    }),
    routes: i.netinfo.routes.map((r) => ({
      family: r.family,
      dst: r.dst,
      gateway: r.gateway ?? null,
      dev: r.dev ?? null,
      protocol: r.protocol ?? null,
      scope: r.scope ?? null,
      prefsrc: r.prefsrc ?? null,
    })),
    sockets: i.netinfo.sockets ?? null,
  };
}

const short = (id: string | null) => (id ? id.slice(0, 13) : '<none>');
/** A host veth that is a port of no bridge: a routed CNI (Calico, Cilium, ptp), said as such. */
const NO_BRIDGE = 'no bridge';

/** The report as text (sections of aligned tables) or JSON. */
export function renderInspect(r: InspectReport, format: OutputFormat, color: boolean): string {
  if (format === 'json' || format === 'yaml') return renderDocument(r, format);
  if (format === 'name') return renderNames([`pod/${r.pod.namespace}/${r.pod.name}`]);
  const kv: Array<[string, string]> = [
    ['Pod', `${r.pod.namespace}/${r.pod.name} (uid ${r.pod.uid})`],
    r.pod.ips.length > 1 ? ['Pod IPs', r.pod.ips.join(', ')] : ['Pod IP', r.pod.ip ?? '<none>'],
    ['Node', r.node],
    ['Runtime', r.runtime],
    ['Netns', `${r.netns.inode}${r.netns.state ? ` (${r.netns.state})` : ''}`],
    ['Paths', r.netns.paths.join(', ') || '<none>'],
    ['Enter', r.netns.enter || '<none>'],
    [
      'Sandbox',
      `${short(r.sandbox.id)}  pid ${r.sandbox.pid ?? '<none>'}${r.sandbox.command ? ` (${r.sandbox.command})` : ''}`,
    ],
    ...r.containers.map((c): [string, string] => [
      `Container ${c.name}`,
      `${short(c.id)}  pid ${c.pid ?? '<none>'}${c.command ? ` (${c.command})` : ''}`,
    ]),
  ];
  const width = Math.max(...kv.map(([k]) => k.length)) + 2;
  const out = [kv.map(([k, v]) => `${`${k}:`.padEnd(width)}${safeText(v)}`).join('\n'), ''];
  out.push('Interfaces:');
  out.push(
    renderTable(
      [
        { key: 'name', header: 'NAME' },
        { key: 'index', header: 'IFINDEX', align: 'right' },
        { key: 'kind', header: 'KIND' },
        { key: 'state', header: 'STATE' },
        { key: 'mac', header: 'MAC' },
        { key: 'mtu', header: 'MTU', align: 'right' },
        { key: 'addresses', header: 'ADDRESSES' },
        { key: 'peer', header: 'HOST-PEER' },
        { key: 'peerIndex', header: 'PEER-IFINDEX', align: 'right' },
        { key: 'bridge', header: 'BRIDGE' },
      ],
      r.interfaces.map((i) => ({
        name: i.name,
        index: i.index,
        kind: cellOf(i.kind),
        state: i.state,
        mac: cellOf(i.mac),
        mtu: cellOf(i.mtu),
        addresses: cellOf(i.addresses),
        peer: cellOf(i.hostPeer?.name),
        peerIndex: cellOf(i.hostPeer?.index),
        bridge: i.hostPeer && !i.hostPeer.bridge ? NO_BRIDGE : cellOf(i.hostPeer?.bridge),
      })),
      { color },
    ),
  );
  out.push('Routes:');
  out.push(
    renderTable(
      [
        { key: 'dst', header: 'DESTINATION' },
        { key: 'gateway', header: 'GATEWAY' },
        { key: 'dev', header: 'DEV' },
        { key: 'protocol', header: 'PROTOCOL' },
        { key: 'scope', header: 'SCOPE' },
        { key: 'prefsrc', header: 'SOURCE' },
      ],
      r.routes.map((x) => ({
        dst: x.dst,
        gateway: cellOf(x.gateway),
        dev: cellOf(x.dev),
        protocol: cellOf(x.protocol),
        scope: cellOf(x.scope),
        prefsrc: cellOf(x.prefsrc),
      })),
      { color },
    ),
  );
  if (r.sockets) {
    out.push('Listening sockets:');
    out.push(
      renderTable(
        [
          { key: 'netid', header: 'PROTO' },
          { key: 'state', header: 'STATE' },
          { key: 'local', header: 'LOCAL' },
          { key: 'peer', header: 'PEER' },
          { key: 'processes', header: 'PROCESS' },
        ],
        r.sockets.map((s) => ({ ...s, processes: cellOf(s.processes.map((p) => `${p.command}/${p.pid}`)) })),
        { color },
      ),
    );
  }
  return `${out.join('\n').trimEnd()}\n`;
}
