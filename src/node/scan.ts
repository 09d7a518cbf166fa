// Parses what the agent's `scan` op prints (tab-separated records, one per line; agent.sh's header
// documents each) into typed facts about one node. Pure: no I/O, no knowledge of the API.
import { parseIpAddr, type NetInterface } from './iproute.ts';

/** The namespaces of one process: the agent itself, the node's (PID 1 or kthreadd), or any process. */
export interface NsPair {
  pid: number;
  netns: string;
  mntns: string | undefined;
}

export interface ProcFact extends NsPair {
  comm: string;
  /** From the process's cgroup path (kubelet names pod cgroups after the pod UID). */
  podUid: string | undefined;
  /** The container (or sandbox) id in its cgroup path. */
  containerId: string | undefined;
}

/** An nsfs bind mount of a network namespace, in one mount namespace. */
export interface MountFact {
  /** Lowest PID in that mount namespace; the mount is reachable as /proc/HOLDER/root/MOUNTPOINT. */
  holder: number;
  mntns: string;
  netns: string;
  /** Unescaped; relative to the holder's root. */
  mountpoint: string;
}

/** An nsfs file in /run/netns, /var/run/netns or /run/docker/netns (node paths). */
export interface FileFact {
  path: string;
  netns: string;
}

/** What libcni's cache says about one attachment: the pod and the netns path it was made in. */
export interface CniFact {
  file: string;
  containerId: string | undefined;
  ifName: string | undefined;
  podNamespace: string | undefined;
  podName: string | undefined;
  podUid: string | undefined;
  /** result.interfaces[].sandbox: the netns path the runtime gave the plugin. */
  sandboxes: string[];
  /** result.ips[].address, e.g. 10.214.0.4/24. */
  ips: string[];
}

export interface ScanFacts {
  self: NsPair;
  /** The node's own namespaces; undefined when the agent could read neither PID 1 nor kthreadd. */
  host: NsPair | undefined;
  procs: ProcFact[];
  mounts: MountFact[];
  files: FileFact[];
  cni: CniFact[];
  /** Interfaces by netns inode; a namespace the agent could not enter is missing. */
  interfaces: Map<string, NetInterface[]>;
  warnings: string[];
  /** Namespaces the agent found, from its `done` line. */
  namespaces: number;
  /**
   * How many of them the agent entered with `ip` (the `done` line's third field); the others in
   * `interfaces` were read from /proc. Undefined from an agent that did not say.
   */
  entered: number | undefined;
}

const INODE = /^[1-9][0-9]*$/;
const PID = /^[1-9][0-9]*$/;

/** mountinfo writes space, tab, newline and backslash as \ooo. */
export function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

function opt(v: string | undefined): string | undefined {
  return v === undefined || v === '-' || v === '' ? undefined : v;
}

function inode(v: string | undefined, line: string): string {
  if (v === undefined || !INODE.test(v))
    throw new Error(`scan: bad namespace inode in ${JSON.stringify(line.slice(0, 200))}`);
  return v;
}

function pid(v: string | undefined, line: string): number {
  if (v === undefined || !PID.test(v)) throw new Error(`scan: bad pid in ${JSON.stringify(line.slice(0, 200))}`);
  return Number(v);
}

/** One libcni cache file (cniCacheV1 JSON); undefined when it is not one. */
export function parseCniCache(file: string, text: string): CniFact | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  const args = new Map<string, string>();
  if (Array.isArray(d.cniArgs)) {
    for (const pair of d.cniArgs) {
      if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') args.set(pair[0], pair[1]);
    }
  }
  const result = (typeof d.result === 'object' && d.result !== null ? d.result : {}) as Record<string, unknown>;
  const ifaces = Array.isArray(result.interfaces) ? result.interfaces : [];
  const ips = Array.isArray(result.ips) ? result.ips : [];
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    file,
    containerId: s(d.containerId),
    ifName: s(d.ifName),
    podNamespace: args.get('K8S_POD_NAMESPACE'),
    podName: args.get('K8S_POD_NAME'),
    podUid: args.get('K8S_POD_UID'),
    sandboxes: ifaces.map((i) => s((i as Record<string, unknown> | null)?.sandbox)).filter((x): x is string => !!x),
    ips: ips.map((i) => s((i as Record<string, unknown> | null)?.address)).filter((x): x is string => !!x),
  };
}

/**
 * Parses the whole output of `scan`. Throws when it is not scan output at all or was cut short
 * (no `done` line: the exec stream or the agent died); unknown record kinds are skipped so an
 * older client can read a newer agent.
 */
export function parseScan(text: string): ScanFacts {
  let self: NsPair | undefined;
  let host: NsPair | undefined;
  let done: number | undefined;
  let entered: number | undefined;
  const procs: ProcFact[] = [];
  const mounts: MountFact[] = [];
  const files: FileFact[] = [];
  const cni: CniFact[] = [];
  const interfaces = new Map<string, NetInterface[]>();
  const warnings: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split('\t');
    switch (f[0]) {
      case 'self':
        self = { pid: pid(f[1], line), netns: inode(f[2], line), mntns: opt(f[3]) };
        break;
      case 'host':
        if (opt(f[1]) !== undefined) host = { pid: pid(f[1], line), netns: inode(f[2], line), mntns: opt(f[3]) };
        break;
      case 'proc':
        procs.push({
          pid: pid(f[1], line),
          netns: inode(f[2], line),
          mntns: opt(f[3]),
          comm: f[4] ?? '?',
          podUid: opt(f[5]),
          containerId: opt(f[6]),
        });
        break;
      case 'mount':
        mounts.push({
          holder: pid(f[1], line),
          mntns: inode(f[2], line),
          netns: inode(f[3], line),
          mountpoint: unescapeMountinfo(f.slice(4).join('\t')),
        });
        break;
      case 'file':
        files.push({ path: f[1] ?? '', netns: inode(f[2], line) });
        break;
      case 'cni': {
        const fact = parseCniCache(f[1] ?? '', f.slice(2).join('\t'));
        if (fact) cni.push(fact);
        else warnings.push(`unreadable CNI cache entry ${f[1] ?? ''}`);
        break;
      }
      case 'ipaddr': {
        const ns = inode(f[1], line);
        try {
          interfaces.set(ns, parseIpAddr(f.slice(2).join('\t')));
        } catch (err) {
          warnings.push(`netns ${ns}: ${(err as Error).message}`);
        }
        break;
      }
      case 'warn':
        warnings.push(f.slice(1).join('\t'));
        break;
      case 'done':
        done = Number(f[1] ?? 0);
        entered = f[2] !== undefined && /^[0-9]+$/.test(f[2]) ? Number(f[2]) : undefined;
        break;
      default:
        break;
    }
  }
  if (!self) throw new Error(`not the output of the agent's scan: ${JSON.stringify(text.slice(0, 200))}`);
  if (done === undefined) throw new Error('the node scan ended early (no "done" line); rerun it');
  return { self, host, procs, mounts, files, cni, interfaces, warnings, namespaces: done, entered };
}
