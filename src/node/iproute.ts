// Pure parsers of iproute2 output as the agent passes it on: `ip -j -d addr show`, `ip -j route
// show` and `ss -H -tulpn` lines. They keep what the forensics commands show and drop the rest;
// fields that a kernel or iproute2 version leaves out become undefined rather than errors.

/** One address on an interface, e.g. 10.214.0.4/24 scope global. */
export interface IpAddress {
  family: 'inet' | 'inet6';
  address: string;
  prefixlen: number;
  /** global, link, host (loopback), site. */
  scope: string;
}

/** One interface of a network namespace. */
export interface NetInterface {
  index: number;
  name: string;
  /** veth, bridge, vxlan, ... (linkinfo.info_kind, needs `ip -d`); undefined for plain devices. */
  kind: string | undefined;
  mac: string | undefined;
  mtu: number | undefined;
  /** UP, DOWN, UNKNOWN (loopback and some virtual devices), LOWERLAYERDOWN. */
  state: string;
  flags: string[];
  /** The bridge (or bond) this interface is a port of. */
  master: string | undefined;
  /** For a veth: its peer's ifindex, in the namespace named by peerNetnsId (ip's "eth0@if127"). */
  peerIndex: number | undefined;
  /** Present when the peer lives in another namespace (an id local to this namespace). */
  peerNetnsId: number | undefined;
  addresses: IpAddress[];
}

export interface Route {
  family: 4 | 6;
  dst: string;
  gateway: string | undefined;
  dev: string | undefined;
  protocol: string | undefined;
  scope: string | undefined;
  prefsrc: string | undefined;
  metric: number | undefined;
}

/** A listening socket, one line of `ss -H -tulpn`. */
export interface Socket {
  /** tcp, udp (ss's Netid column). */
  netid: string;
  state: string;
  local: string;
  peer: string;
  /** ss -p's users:(("httpd",pid=20470,fd=3)), parsed; empty when ss could not tell. */
  processes: Array<{ command: string; pid: number }>;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function parseJsonArray(text: string, what: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(value)) throw new Error(`${what}: expected a JSON array`);
  return value;
}

/** The interfaces in `ip -j -d addr show` (or `ip -j link`, which has no addr_info). */
export function parseIpAddr(text: string): NetInterface[] {
  return parseJsonArray(text, 'ip -j addr').flatMap((raw): NetInterface[] => {
    if (typeof raw !== 'object' || raw === null) return [];
    const l = raw as Record<string, unknown>;
    const index = num(l.ifindex);
    const name = str(l.ifname);
    if (index === undefined || name === undefined) return [];
    const linkinfo = (typeof l.linkinfo === 'object' && l.linkinfo !== null ? l.linkinfo : {}) as Record<
      string,
      unknown
    >;
    const addrInfo = Array.isArray(l.addr_info) ? l.addr_info : [];
    return [
      {
        index,
        name,
        kind: str(linkinfo.info_kind),
        mac: str(l.address),
        mtu: num(l.mtu),
        state: str(l.operstate) ?? 'UNKNOWN',
        flags: Array.isArray(l.flags) ? l.flags.filter((f): f is string => typeof f === 'string') : [],
        master: str(l.master),
        peerIndex: num(l.link_index),
        peerNetnsId: num(l.link_netnsid),
        addresses: addrInfo.flatMap((a): IpAddress[] => {
          const r = (a ?? {}) as Record<string, unknown>;
          const family = r.family === 'inet' || r.family === 'inet6' ? r.family : undefined;
          const address = str(r.local);
          const prefixlen = num(r.prefixlen);
          if (!family || address === undefined || prefixlen === undefined) return [];
          return [{ family, address, prefixlen, scope: str(r.scope) ?? 'global' }];
        }),
      },
    ];
  });
}

/** The routes in `ip -j [-6] route show`. */
export function parseRoutes(text: string, family: 4 | 6): Route[] {
  return parseJsonArray(text, 'ip -j route').flatMap((raw): Route[] => {
    if (typeof raw !== 'object' || raw === null) return [];
    const r = raw as Record<string, unknown>;
    const dst = str(r.dst);
    if (dst === undefined) return [];
    return [
      {
        family,
        dst,
        gateway: str(r.gateway),
        dev: str(r.dev),
        protocol: str(r.protocol),
        scope: str(r.scope),
        prefsrc: str(r.prefsrc),
        metric: num(r.metric),
      },
    ];
  });
}

/** One `ss -H -tulpn` line: Netid State Recv-Q Send-Q Local Peer [Process]. */
export function parseSsLine(line: string): Socket | undefined {
  const m = /^(\S+)\s+(\S+)\s+\d+\s+\d+\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const processes = [...(m[5] ?? '').matchAll(/\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=\d+\)/g)].map((p) => ({
    command: p[1]!,
    pid: Number(p[2]),
  }));
  return { netid: m[1]!, state: m[2]!, local: m[3]!, peer: m[4]!, processes };
}

/** `10.214.0.4/24`, `fe80::1/64`. */
export function cidr(a: IpAddress): string {
  return `${a.address}/${a.prefixlen}`;
}
