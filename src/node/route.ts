// Parses what the agent's `route` op prints (agent.sh's header documents the records): where a
// pod's and a node's packets to an address go, and the host end of the pod's interface. Pure.
import { parseIpAddr, type NetInterface } from './iproute.ts';

/** One `ip -j route get` answer. */
export interface RouteAnswer {
  dev: string;
  gateway: string | undefined;
  prefsrc: string | undefined;
}

export interface RouteFacts {
  pid: number | undefined;
  netnsInode: string | undefined;
  /** The pod's route to the address. */
  pod: RouteAnswer | undefined;
  /** The host end of the pod's interface: its name on the node and its bridge. */
  peer: { iface: string; hostIface: string; master: string | undefined } | undefined;
  /** Why there is no host end (not a veth, the debug pod is not on the node's network). */
  noPeer: { iface: string; reason: string } | undefined;
  /** The node's route to its address, and that interface (kind, bridge, addresses). */
  node: RouteAnswer | undefined;
  nodeLink: NetInterface | undefined;
  /** ip's message where it had no route. */
  noRoute: { pod?: string; node?: string };
}

function routeAnswer(json: string): RouteAnswer | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  const r = (Array.isArray(v) ? v[0] : undefined) as Record<string, unknown> | undefined;
  if (!r || typeof r.dev !== 'string') return undefined;
  const s = (x: unknown) => (typeof x === 'string' ? x : undefined);
  return { dev: r.dev, gateway: s(r.gateway), prefsrc: s(r.prefsrc) };
}

export function parseRouteOutput(text: string): RouteFacts {
  const out: RouteFacts = {
    pid: undefined,
    netnsInode: undefined,
    pod: undefined,
    peer: undefined,
    noPeer: undefined,
    node: undefined,
    nodeLink: undefined,
    noRoute: {},
  };
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    switch (f[0]) {
      case 'pid':
        out.pid = Number(f[1]);
        out.netnsInode = f[2];
        break;
      case 'route':
        out.pod = routeAnswer(f.slice(1).join('\t'));
        break;
      case 'peer':
        out.peer = { iface: f[1] ?? '', hostIface: f[2] ?? '', master: f[3] && f[3] !== '-' ? f[3] : undefined };
        break;
      case 'nopeer':
        out.noPeer = { iface: f[1] ?? '', reason: f.slice(2).join('\t') };
        break;
      case 'noderoute':
        out.node = routeAnswer(f.slice(1).join('\t'));
        break;
      case 'nodelink':
        try {
          out.nodeLink = parseIpAddr(f.slice(1).join('\t'))[0];
        } catch {
          out.nodeLink = undefined;
        }
        break;
      case 'noroute':
        if (f[1] === 'pod' || f[1] === 'node') out.noRoute[f[1]] = f.slice(2).join('\t');
        break;
    }
  }
  return out;
}
