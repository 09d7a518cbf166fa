// Turns one node's scan facts plus the API's pods on that node into one entry per network
// namespace: its paths, processes, owner, state, interfaces and the host side of its veths. Pure,
// so every rule below (what makes a namespace "orphaned" or "stale") is unit-tested on real scans.
import type { NetInterface } from './iproute.ts';
import type { CniFact, ProcFact, ScanFacts } from './scan.ts';

/** What the API says about a pod on the node, reduced to what ownership needs. */
export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
  /** kubernetes.io/config.mirror: a static pod's cgroups carry this UID, not its mirror pod's. */
  mirrorUid?: string | undefined;
  /** Container ids without the runtime:// prefix. */
  containerIds: string[];
}

/**
 * host: the node's own. pod: a pod the API knows owns it. orphaned: no process is left in it, a
 * mount keeps it alive. stale: it belongs to a pod the API no longer has. other: processes, but no
 * pod's (systemd PrivateNetwork services, `ip netns exec` sessions, other runtimes).
 */
export type NetnsState = 'host' | 'pod' | 'orphaned' | 'stale' | 'other';

export interface NetnsOwner {
  namespace: string | undefined;
  name: string | undefined;
  uid: string | undefined;
  /** How we know: the processes' cgroups, their container ids, or libcni's cache. */
  source: 'cgroup' | 'container-id' | 'cni';
  /** False when the API has no such pod (any more). */
  inApi: boolean;
}

export interface NetnsEntry {
  inode: string;
  state: NetnsState;
  /**
   * nsfs paths usable on the node: mounts in the node's mount namespace and files as they are;
   * a mount that exists only in another mount namespace as /proc/HOLDER/root/MOUNTPOINT.
   */
  paths: string[];
  /** Processes in it, lowest PID first. */
  procs: ProcFact[];
  /**
   * Mount namespaces other than the node's whose nsfs mounts keep it alive (a namespace whose last
   * process exited, kept alive by a bind mount the node's own mount table never shows), each with its lowest PID and how many processes share it.
   */
  holders: MountHolder[];
  owner: NetnsOwner | undefined;
  /** undefined when the agent could not enter the namespace. */
  interfaces: NetInterface[] | undefined;
  /** A command that enters it from the node's root (prefix it to a command). */
  enter: string;
}

export interface MountHolder {
  pid: number;
  comm: string;
  mntns: string;
  processes: number;
}

export interface HostPeer {
  name: string;
  index: number;
  /** The bridge it is a port of, e.g. cni0 or knetns0. */
  master: string | undefined;
}

/** The node's own network namespace (PID 1's or kthreadd's, else the agent's: hostNetwork). */
export function hostNetns(facts: ScanFacts): string {
  return facts.host?.netns ?? facts.self.netns;
}

/** Single-quotes a word for a POSIX shell unless it is plainly safe. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function mostCommon(values: Array<string | undefined>): string | undefined {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: string | undefined;
  for (const [v, n] of counts) if (best === undefined || n > counts.get(best)!) best = v;
  return best;
}

/** The paths of each namespace, as the node sees them (see NetnsEntry.paths). */
function pathsByNetns(facts: ScanFacts): Map<string, string[]> {
  const hostMnt = facts.host?.mntns;
  const out = new Map<string, string[]>();
  const add = (ns: string, p: string) => {
    const list = out.get(ns) ?? [];
    if (!list.includes(p)) list.push(p);
    out.set(ns, list);
  };
  const hostMounts = new Set(facts.mounts.filter((m) => m.mntns === hostMnt).map((m) => `${m.netns} ${m.mountpoint}`));
  for (const m of facts.mounts) if (m.mntns === hostMnt) add(m.netns, m.mountpoint);
  for (const f of facts.files) add(f.netns, f.path);
  // A copy of a node mount in another mount namespace adds nothing while the node's exists.
  for (const m of facts.mounts) {
    if (m.mntns !== hostMnt && !hostMounts.has(`${m.netns} ${m.mountpoint}`))
      add(m.netns, `/proc/${m.holder}/root${m.mountpoint}`);
  }
  return out;
}

/** The mount namespaces (other than the node's) that hold an nsfs mount of each namespace. */
function holdersByNetns(facts: ScanFacts): Map<string, MountHolder[]> {
  const hostMnt = facts.host?.mntns;
  const out = new Map<string, MountHolder[]>();
  for (const m of facts.mounts) {
    if (m.mntns === hostMnt) continue;
    const list = out.get(m.netns) ?? [];
    if (list.some((h) => h.mntns === m.mntns)) continue;
    const procs = facts.procs.filter((p) => p.mntns === m.mntns);
    list.push({
      pid: m.holder,
      comm: procs.find((p) => p.pid === m.holder)?.comm ?? '?',
      mntns: m.mntns,
      processes: procs.length,
    });
    out.set(m.netns, list);
  }
  return out;
}

/** The API pod with this UID (or static-pod mirror UID). */
function podByUid(pods: readonly PodRef[], uid: string): PodRef | undefined {
  return pods.find((p) => p.uid === uid || p.mirrorUid === uid);
}

function ownerOf(
  procs: ProcFact[],
  rawPaths: Set<string>,
  cni: readonly CniFact[],
  pods: readonly PodRef[],
): NetnsOwner | undefined {
  const uid = mostCommon(procs.map((p) => p.podUid));
  if (uid !== undefined) {
    const pod = podByUid(pods, uid);
    const c = cni.find((x) => x.podUid === uid);
    return {
      namespace: pod?.namespace ?? c?.podNamespace,
      name: pod?.name ?? c?.podName,
      uid,
      source: 'cgroup',
      inApi: pod !== undefined,
    };
  }
  const ids = new Set(procs.map((p) => p.containerId).filter((x): x is string => x !== undefined));
  const byId = pods.find((p) => p.containerIds.some((id) => ids.has(id)));
  if (byId) return { namespace: byId.namespace, name: byId.name, uid: byId.uid, source: 'container-id', inApi: true };
  // No process to ask: libcni's cache names the pod it wired into this namespace's path (or into
  // the sandbox whose id a process here still carries).
  const c = cni.find(
    (x) =>
      x.podName !== undefined &&
      (x.sandboxes.some((s) => rawPaths.has(s)) || (x.containerId !== undefined && ids.has(x.containerId))),
  );
  if (!c) return undefined;
  const pod =
    c.podUid !== undefined
      ? podByUid(pods, c.podUid)
      : pods.find((p) => p.namespace === c.podNamespace && p.name === c.podName);
  return { namespace: c.podNamespace, name: c.podName, uid: c.podUid, source: 'cni', inApi: pod !== undefined };
}

function stateOf(inode: string, host: string, procs: number, owner: NetnsOwner | undefined): NetnsState {
  if (inode === host) return 'host';
  if (owner && !owner.inApi) return 'stale';
  if (procs === 0) return 'orphaned';
  return owner ? 'pod' : 'other';
}

/** Every network namespace the scan saw, host first, then by inode. */
export function buildNetnsTable(facts: ScanFacts, pods: readonly PodRef[]): NetnsEntry[] {
  const host = hostNetns(facts);
  const paths = pathsByNetns(facts);
  const holders = holdersByNetns(facts);
  const procsBy = new Map<string, ProcFact[]>();
  for (const p of facts.procs) procsBy.set(p.netns, [...(procsBy.get(p.netns) ?? []), p]);
  // Raw paths (as mounted, in any mount namespace) are what libcni recorded as the sandbox.
  const raw = new Map<string, Set<string>>();
  const addRaw = (ns: string, p: string) => raw.set(ns, (raw.get(ns) ?? new Set()).add(p));
  for (const m of facts.mounts) addRaw(m.netns, m.mountpoint);
  for (const f of facts.files) addRaw(f.netns, f.path);

  const inodes = new Set<string>([host, ...procsBy.keys(), ...paths.keys(), ...facts.interfaces.keys()]);
  const entries = [...inodes].map((inode): NetnsEntry => {
    const procs = (procsBy.get(inode) ?? []).sort((a, b) => a.pid - b.pid);
    const owner = inode === host ? undefined : ownerOf(procs, raw.get(inode) ?? new Set(), facts.cni, pods);
    const p = paths.get(inode) ?? [];
    const first = procs[0];
    return {
      inode,
      state: stateOf(inode, host, procs.length, owner),
      paths: p,
      procs,
      holders: holders.get(inode) ?? [],
      owner,
      interfaces: facts.interfaces.get(inode),
      enter: first ? `nsenter -t ${first.pid} -n` : p[0] !== undefined ? `nsenter --net=${shellQuote(p[0])}` : '',
    };
  });
  return entries.sort(
    (a, b) => Number(b.state === 'host') - Number(a.state === 'host') || (BigInt(a.inode) < BigInt(b.inode) ? -1 : 1),
  );
}

/**
 * The host end of each veth in namespace INODE: ip shows it as "eth0@if127", so its peer is the
 * node's interface 127, whose own peer index must point back at eth0 (ifindexes are per namespace,
 * so the back reference is what rules out a coincidence).
 */
export function hostPeers(facts: ScanFacts, inode: string): Map<string, HostPeer> {
  const out = new Map<string, HostPeer>();
  const host = hostNetns(facts);
  if (inode === host) return out;
  const hostIfs = facts.interfaces.get(host) ?? [];
  for (const i of facts.interfaces.get(inode) ?? []) {
    if (i.peerIndex === undefined || i.peerNetnsId === undefined) continue;
    const peer = hostIfs.find((h) => h.index === i.peerIndex && h.peerIndex === i.index && h.peerNetnsId !== undefined);
    if (peer) out.set(i.name, { name: peer.name, index: peer.index, master: peer.master });
  }
  return out;
}
