// Which interfaces a connection from SRC to DST passes, in order, from what the agent's `route` op
// found on each end's node: inside each pod, the node's end of its veth, and the node interface
// its route to the other end uses; one node or two. Pure.
import type { RouteFacts } from '../node/route.ts';

/** One end of the path: a pod (with what its node's agent found), or an address outside the cluster. */
export type PathEnd =
  | {
      kind: 'pod';
      namespace: string;
      pod: string;
      podUid: string;
      containerIds: readonly string[];
      node: string;
      hostNetwork: boolean;
      /** The agent's `route` answers on the pod's node, towards the other end. */
      routes: RouteFacts;
    }
  | { kind: 'ip'; address: string };

export type HopRole = 'pod' | 'veth' | 'node';

export interface PlannedHop {
  node: string;
  role: HopRole;
  side: 'src' | 'dst';
  /** The interface tcpdump listens on: inside the pod (role pod), or on the node. */
  iface: string;
  /** role pod and veth: the pod, found by the capture's agent. */
  pod: { namespace: string; pod: string; podUid: string; containerIds: readonly string[] } | undefined;
  /** role veth: the pod's interface whose host end this is. */
  podIface: string | undefined;
  /** pcapng if_name: where this is, at a glance. */
  name: string;
  /** pcapng if_description: the whole story. */
  description: string;
}

export interface HopPlan {
  hops: PlannedHop[];
  /** Index of the first hop on DST's side (hops.length when DST is an outside address). */
  firstDstHop: number;
  /** What was left out, and why (for the user). */
  notes: string[];
}

/** The hops of one end, in the order its outgoing packets pass them. */
function sideHops(end: PathEnd, side: 'src' | 'dst', notes: string[]): PlannedHop[] {
  if (end.kind === 'ip') return [];
  const r = end.routes;
  const label = `${end.namespace}/${end.pod}`;
  const out: PlannedHop[] = [];
  const pod = { namespace: end.namespace, pod: end.pod, podUid: end.podUid, containerIds: end.containerIds };
  if (!end.hostNetwork) {
    if (!r.pod) throw new Error(`${label} has no route to the other end${r.noRoute.pod ? `: ${r.noRoute.pod}` : ''}`);
    const dev = r.pod.dev;
    out.push({
      node: end.node,
      role: 'pod',
      side,
      iface: dev,
      pod,
      podIface: undefined,
      name: `${end.node}/${label}/${dev}`,
      description: `inside pod ${label} on node ${end.node}: its ${dev}${r.pod.gateway ? `, route via ${r.pod.gateway}` : ''}`,
    });
    if (r.peer) {
      out.push({
        node: end.node,
        role: 'veth',
        side,
        iface: r.peer.hostIface,
        pod,
        podIface: dev,
        name: `${end.node}/${r.peer.hostIface} (host side of ${label} ${dev})`,
        description: `node ${end.node}: ${r.peer.hostIface}, the node's end of ${label}'s ${dev} (${r.peer.master ? `bridge ${r.peer.master}` : 'no bridge'})`,
      });
    } else {
      notes.push(`no host-side hop for ${label}: ${r.noPeer?.reason ?? 'its interface has no peer on the node'}`);
    }
  }
  if (!r.node) {
    notes.push(
      `no node hop for ${label}: node ${end.node} has no route to the other end${r.noRoute.node ? ` (${r.noRoute.node})` : ''}`,
    );
    return out;
  }
  const dev = r.node.dev;
  const link = r.nodeLink;
  // A same-bridge neighbour is reached at layer 2: the bridge device itself never sees those
  // packets (only routed ones), so it is no hop of this path.
  if (!end.hostNetwork && !r.pod?.gateway && link?.kind === 'bridge' && r.peer?.master === dev) {
    notes.push(`${label} reaches the other end through bridge ${dev} at layer 2: no routed hop on node ${end.node}`);
    return out;
  }
  const what = link?.kind === 'bridge' ? 'bridge' : link?.kind ? `${link.kind}` : 'interface';
  out.push({
    node: end.node,
    role: 'node',
    side,
    iface: dev,
    pod: undefined,
    podIface: undefined,
    name: `${end.node}/${dev}`,
    description: `node ${end.node}: ${dev} (${what}${link?.master ? ` on ${link.master}` : ''}), its route towards ${label}'s peer${r.node.gateway ? ` via ${r.node.gateway}` : ''}${end.hostNetwork ? ` (${label} uses the node's network)` : ''}`,
  });
  return out;
}

/** SRC's hops outward, then DST's inward; an interface on both sides is one hop (a routed node's veth). */
export function planHops(src: PathEnd, dst: PathEnd): HopPlan {
  const notes: string[] = [];
  const srcHops = sideHops(src, 'src', notes);
  const dstHops = sideHops(dst, 'dst', notes).reverse();
  const hops: PlannedHop[] = [];
  // Interfaces inside a pod are its own; the others are the node's, shared by both sides.
  const where = (h: PlannedHop) => `${h.node}|${h.role === 'pod' ? h.pod!.podUid : ''}|${h.iface}`;
  for (const h of [...srcHops, ...dstHops]) {
    const i = hops.findIndex((x) => where(x) === where(h));
    if (i < 0) {
      hops.push(h);
      continue;
    }
    // The same interface from both ends: a veth names it better than "a route's interface".
    if (hops[i]!.role === 'node' && h.role !== 'node') hops[i] = h;
  }
  if (hops.length === 0) throw new Error('no hop to capture on: give at least one pod');
  const firstDst = hops.findIndex((h) => h.side === 'dst');
  return { hops, firstDstHop: firstDst < 0 ? hops.length : firstDst, notes };
}
