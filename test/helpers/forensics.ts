// Real leftovers for the forensics tests (ls, whohas, host-side veths), built the way they happen
// on nodes: a network namespace whose last process is gone, kept alive only by a bind mount that
// exists in ANOTHER mount namespace (what a daemon started with private mounts leaves); namespaces under /run/docker/netns and
// /run/netns/cni-* paths; a veth into a bridge; a libcni cache entry. Every name is knt-<random>,
// every object is removed by netns.ts's cleanupAll() (also on exit and SIGINT/SIGTERM), and
// directories are created only when missing and removed only when we created them.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isAlive, netnsInodeOf, onCleanup, rand, track } from './netns.ts';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function quiet(cmd: string, args: string[]): void {
  try {
    sh(cmd, args);
  } catch {
    // already gone
  }
}

async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/** A process alone in a new network namespace (`unshare -n sleep`), killed at cleanup. */
export async function netnsProcess(): Promise<{ child: ChildProcess; pid: number; inode: string }> {
  const root = netnsInodeOf(process.pid);
  const child = track(spawn('unshare', ['-n', 'sleep', '600'], { stdio: 'ignore' }));
  const pid = child.pid!;
  // unshare execs sleep in place, so the PID stays; wait until it has left our namespace.
  await until(`pid ${pid} in a new netns`, () => {
    try {
      return netnsInodeOf(pid) !== root;
    } catch {
      return false;
    }
  });
  return { child, pid, inode: netnsInodeOf(pid) };
}

/** Kills PID and waits until it is gone (reaped by its parent, us). */
export async function killAndWait(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  await until(`pid ${child.pid} to exit`, () => !isAlive(child.pid!));
}

/** A test-unique bridge in the root namespace (never the cluster's knetns0). */
export function createBridge(): string {
  const name = `knt-${rand()}b`;
  sh('ip', ['link', 'add', name, 'type', 'bridge']);
  onCleanup(() => quiet('ip', ['link', 'del', name]));
  sh('ip', ['link', 'set', name, 'up']);
  return name;
}

/** A random 10.232.x.y/24 address for inside a test namespace; nothing on this machine routes it. */
export function testAddress(): string {
  return `10.232.${Math.floor(Math.random() * 256)}.${2 + Math.floor(Math.random() * 250)}`;
}

/** A veth from the namespace of PID (named NSIF there, with ADDR/24) to BRIDGE in the root namespace. */
export function vethInto(pid: number, nsIf: string, addr: string, bridge: string): { hostIf: string } {
  const hostIf = `knt-${rand()}h`;
  sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', String(pid)]);
  onCleanup(() => quiet('ip', ['link', 'del', hostIf]));
  sh('ip', ['link', 'set', hostIf, 'master', bridge, 'up']);
  sh('nsenter', ['-t', String(pid), '-n', 'ip', 'addr', 'add', `${addr}/24`, 'dev', nsIf]);
  sh('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'set', nsIf, 'up']);
  return { hostIf };
}

// Inside the holder's new mount namespace: drop the copies of every other nsfs mount (they would
// keep OTHER namespaces alive while the holder lives, e.g. a pod another test deletes), then bind
// the namespace onto the file and stay.
const HOLDER_SCRIPT = `
awk '$9 == "nsfs" { print $5 }' /proc/self/mountinfo | while read -r m; do umount "$m" 2>/dev/null; done
mount --bind "$1" "$2" || exit 1
echo ready
exec sleep 600`;

export interface HeldNetns {
  inode: string;
  /** The `sleep` whose private mount namespace holds the only mount, as its node sees it. */
  holderPid: number;
  /** The same process as this machine's root PID namespace sees it (to kill it). */
  rootPid: number;
  /** The bind mount's path inside the holder's mount namespace (an empty file in ours). */
  mountpoint: string;
}

/** The NSpid fields of PID's status: its PID in each PID namespace it is in, outermost first. */
function nsPids(pid: number): number[] {
  const line = execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.startsWith('NSpid:'));
  return (line ?? `NSpid: ${pid}`).trim().split(/\s+/).slice(1).map(Number);
}

/**
 * PID as the PID namespace of INIT (a node's PID 1) sees it. Not simply its innermost PID: a pod's
 * sandbox sits in a PID namespace of its own, one level deeper (where it is PID 1).
 */
export function pidInNamespaceOf(init: number, pid: number): number {
  const level = nsPids(init).length - 1;
  const id = nsPids(pid)[level];
  if (id === undefined) throw new Error(`pid ${pid} is not in the PID namespace of ${init}`);
  return id;
}

/** The first process below PID (its child, grandchild, ...) running COMM, or undefined. */
function descendantNamed(pid: number, comm: string): number | undefined {
  const parents = new Map<number, number>();
  const comms = new Map<number, string>();
  for (const d of execFileSync('ls', ['/proc'], { encoding: 'utf8' }).split('\n')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = execFileSync('cat', [`/proc/${d}/stat`], { encoding: 'utf8' });
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(d), Number(rest[1]));
      comms.set(Number(d), stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
    } catch {
      // exited meanwhile
    }
  }
  const below = (p: number): boolean => {
    for (let q = parents.get(p); q !== undefined && q > 1; q = parents.get(q)) if (q === pid) return true;
    return false;
  };
  return [...comms].find(([p, c]) => c === comm && below(p))?.[0];
}

/**
 * The orphaned-namespace case: bind-mounts the network namespace of NSPID onto a file inside a new private mount
 * namespace (`unshare -m --propagation private`) whose only process is a `sleep`. The mount is
 * not in our mount table; the namespace lives as long as the sleep does. The caller kills NSPID.
 * FILENAME may hold spaces: mountinfo then escapes them (\040), as real paths sometimes need.
 * NODEINIT (an extra node's PID 1) starts the holder inside that node's PID and mount namespaces,
 * where its own agent finds it, as a leak on that node would be.
 */
export async function holdInPrivateMountNs(nsPid: number, fileName = 'net', nodeInit?: number): Promise<HeldNetns> {
  const dir = mkdtempSync(join(tmpdir(), 'knt-held-'));
  const mountpoint = join(dir, fileName);
  writeFileSync(mountpoint, '');
  const inode = netnsInodeOf(nsPid);
  // Inside a node, /proc is the node's: the target is named by its PID there.
  const nsFile = `/proc/${nodeInit ? pidInNamespaceOf(nodeInit, nsPid) : nsPid}/ns/net`;
  const argv = [
    'unshare',
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    HOLDER_SCRIPT,
    'knt-holder',
    nsFile,
    mountpoint,
  ];
  const full = nodeInit ? ['nsenter', '-t', String(nodeInit), '-p', '-m', '--', ...argv] : argv;
  const holder = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  // Killing the holder drops its mount namespace, the mount, and with it the namespace and its veths.
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  track(holder);
  let out = '';
  holder.stdout.on('data', (b: Buffer) => (out += b.toString()));
  holder.stderr.on('data', (b: Buffer) => (out += b.toString()));
  await until('the holder to mount the namespace', () => out.includes('ready') || holder.exitCode !== null);
  if (!out.includes('ready')) throw new Error(`holder failed: ${out}`);
  let rootPid = 0;
  await until('the holder to exec sleep', () => {
    try {
      if (!nodeInit) {
        rootPid = holder.pid!;
        return execFileSync('cat', [`/proc/${holder.pid}/comm`], { encoding: 'utf8' }).trim() === 'sleep';
      }
      // nsenter -p forks: the sleep is its descendant.
      rootPid = descendantNamed(holder.pid!, 'sleep') ?? 0;
      return rootPid > 0;
    } catch {
      return false;
    }
  });
  // nsenter's child outlives a killed nsenter: the sleep is killed by its own PID.
  if (nodeInit) onCleanup(() => void (isAlive(rootPid) && process.kill(rootPid, 'SIGKILL')));
  return { inode, holderPid: nodeInit ? pidInNamespaceOf(nodeInit, rootPid) : rootPid, rootPid, mountpoint };
}

/**
 * Bind-mounts the network namespace of NSPID at DIR/knt-<rand> in OUR mount namespace (as docker
 * does under /run/docker/netns and `ip netns` under /run/netns), creating DIR only if missing.
 */
export function mountNetnsAt(dir: string, nsPid: number, name = `knt-${rand()}`): string {
  const created: string[] = [];
  for (let d = dir; !existsSync(d); d = join(d, '..')) created.unshift(d);
  mkdirSync(dir, { recursive: true });
  onCleanup(() => {
    for (const d of [...created].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // not empty: someone else put something there meanwhile; leave it
      }
    }
  });
  const path = join(dir, name);
  writeFileSync(path, '');
  onCleanup(() => rmSync(path, { force: true }));
  sh('mount', ['--bind', `/proc/${nsPid}/ns/net`, path]);
  onCleanup(() => quiet('umount', [path]));
  return path;
}

/**
 * A libcni cache entry (as the bridge plugin leaves in /var/lib/cni/results) saying pod
 * NAMESPACE/NAME (UID) was wired into the namespace at SANDBOX. Test-unique file name.
 */
export function cniCacheEntry(o: {
  sandbox: string;
  namespace: string;
  name: string;
  uid: string;
  ip: string;
  containerId: string;
}): string {
  const dir = '/var/lib/cni/results';
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    onCleanup(() => quiet('rmdir', [dir]));
  }
  const file = join(dir, `knt-${rand()}-${o.containerId}-eth0`);
  const doc = {
    kind: 'cniCacheV1',
    containerId: o.containerId,
    config: Buffer.from('{"cniVersion":"1.0.0","name":"knt","plugins":[{"type":"bridge"}]}').toString('base64'),
    ifName: 'eth0',
    networkName: 'knt',
    cniArgs: [
      ['K8S_POD_INFRA_CONTAINER_ID', o.containerId],
      ['K8S_POD_UID', o.uid],
      ['IgnoreUnknown', '1'],
      ['K8S_POD_NAMESPACE', o.namespace],
      ['K8S_POD_NAME', o.name],
    ],
    result: {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'knt0' }, { name: 'veth0' }, { name: 'eth0', sandbox: o.sandbox }],
      ips: [{ address: `${o.ip}/24`, interface: 2 }],
    },
  };
  writeFileSync(file, JSON.stringify(doc));
  onCleanup(() => rmSync(file, { force: true }));
  return file;
}

/** Starts COUNT `sleep` processes in one process group (a busy node); returns their killer (also run at cleanup). */
export async function manyProcesses(count: number): Promise<() => void> {
  const child = spawn(
    'sh',
    ['-c', `i=0; while [ $i -lt ${count} ]; do sleep 600 & i=$((i + 1)); done; echo started; wait`],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
      detached: true,
    },
  );
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  };
  onCleanup(kill);
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await until(`${count} processes`, () => out.includes('started'), 60_000);
  return kill;
}

/**
 * COUNT processes each alone in a new network namespace (`unshare -n sleep`, loopback down and no
 * address: what a node that leaks namespaces is full of), in one process group; returns their
 * PIDs once every one has left our namespace, and their killer (also run at cleanup).
 */
export async function manyNetns(count: number): Promise<{ pids: number[]; stop: () => void }> {
  const root = netnsInodeOf(process.pid);
  const child = spawn(
    'sh',
    ['-c', `i=0; while [ $i -lt ${count} ]; do unshare -n sleep 600 & echo $!; i=$((i + 1)); done; echo started; wait`],
    { stdio: ['ignore', 'pipe', 'ignore'], detached: true },
  );
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  };
  onCleanup(stop);
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await until(`${count} namespaces`, () => out.includes('started'), 60_000);
  const pids = out
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
  // unshare execs sleep in place, so each PID stays; wait until each has left our namespace.
  const away = (pid: number) => {
    try {
      return netnsInodeOf(pid) !== root;
    } catch {
      return false;
    }
  };
  await until(`${count} processes in new namespaces`, () => pids.every(away), 60_000);
  return { pids, stop };
}
