// A real Docker engine for the agent tests: Debian's dockerd (docker.io), started for the test run
// and removed with everything it made (containers, its containerd and shims, mounts, cgroups, files). Its own data root (a temp dir) and socket; the DEFAULT exec
// root /run/docker, because that is where docker keeps a container's network namespace
// (/run/docker/netns/<SandboxID>) and where the agent looks. No iptables rules, no masquerade, no
// docker0 bridge, and IP forwarding left alone. Images come from scripts/images/build.ts archives
// through `docker load`: no registry is ever contacted.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isAlive, onCleanup, which } from './netns.ts';

/** docker keeps its runtime state (netns files, its containerd) here; the agent scans EXEC_ROOT/netns. */
export const EXEC_ROOT = '/run/docker';
const KEY_FILE = '/etc/docker/key.json';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Dockerd {
  /** dockerd's PID. */
  pid: number;
  /** unix:///... for DOCKER_HOST. */
  host: string;
  /** The docker client that came with dockerd, with PATH-free absolute path. */
  client: string;
  /** Runs the client against this engine; returns stdout (throws with stderr on failure). */
  docker(args: string[]): string;
}

/** Why the docker tests cannot run here, or false. dockerd comes from scripts/install-deps.sh. */
export function dockerProblem(): string | false {
  if (!which('dockerd')) return 'dockerd not installed (sudo bash scripts/install-deps.sh installs docker.io)';
  if (existsSync(EXEC_ROOT))
    return `${EXEC_ROOT} exists: another Docker engine runs here, and these tests need its exec root`;
  return false;
}

function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    timeout: opts.timeoutMs ?? 60_000,
  });
}

/** Processes whose command line names one of PATHS (a shim left behind by dockerd's containerd). */
function processesNaming(paths: string[]): number[] {
  const found: number[] = [];
  for (const d of sh('ls', ['/proc']).split('\n')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (paths.some((p) => cmd.includes(p))) found.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** docker's parent cgroup (cgroupfs driver): /docker in every hierarchy, each container below it. */
function dockerCgroups(): string[] {
  return readdirSync('/sys/fs/cgroup')
    .map((h) => join('/sys/fs/cgroup', h, 'docker'))
    .filter((d) => existsSync(d));
}

/** Every process in cgroup DIR or below it (a container whose shim was killed keeps running there). */
function cgroupProcs(dir: string): number[] {
  const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  for (const sub of readdirSync(dir, { withFileTypes: true }))
    if (sub.isDirectory()) procs.push(...cgroupProcs(join(dir, sub.name)));
  return procs;
}

/** Removes cgroup DIR and everything below it, deepest first (rmdir only; a cgroup just emptied may be busy a moment). */
function removeCgroupTree(dir: string): void {
  for (const sub of readdirSync(dir, { withFileTypes: true }))
    if (sub.isDirectory()) removeCgroupTree(join(dir, sub.name));
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      execFileSync('sleep', ['0.05']);
    }
  }
}

/** Mount points at or below one of DIRS in our mount table, deepest first. */
function mountsUnder(dirs: string[]): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => dirs.some((d) => m === d || m.startsWith(`${d}/`)))
    .sort((a, b) => b.length - a.length);
}

/**
 * Starts dockerd and waits until it answers; everything it made goes at cleanup: its containers,
 * the engine and its containerd, their mounts, the data root, /run/docker and the key file.
 */
export async function startDockerd(): Promise<Dockerd> {
  const dir = mkdtempSync(join(tmpdir(), 'knt-docker-'));
  const dataRoot = join(dir, 'data');
  const sock = join(dir, 'docker.sock');
  const host = `unix://${sock}`;
  const dockerdBin = which('dockerd')!;
  // The client of the same package (/usr/bin/docker), not whatever newer one comes first on PATH.
  const client = existsSync(join(dirname(dockerdBin), 'docker'))
    ? join(dirname(dockerdBin), 'docker')
    : which('docker')!;
  const hadKey = existsSync(KEY_FILE);
  const hadCgroups = new Set(dockerCgroups());
  const env = { ...process.env, DOCKER_HOST: host };
  const docker = (args: string[]) => sh(client, args, { env });

  const child: ChildProcess = spawn(
    dockerdBin,
    [
      '--data-root',
      dataRoot,
      '--exec-root',
      EXEC_ROOT,
      '-H',
      host,
      '--pidfile',
      join(dir, 'dockerd.pid'),
      // Nothing on this machine's network changes: no rules, no NAT, no docker0, no ip_forward.
      '--iptables=false',
      '--ip-masq=false',
      '--ip-forward=false',
      '--bridge=none',
      '--log-level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));

  onCleanup(() => {
    try {
      const ids = docker(['ps', '-aq']).split('\n').filter(Boolean);
      if (ids.length > 0) docker(['rm', '-f', ...ids]);
    } catch {
      // the engine is not answering; its processes go below
    }
    if (isAlive(child.pid!)) {
      child.kill('SIGTERM');
      for (let i = 0; i < 150 && isAlive(child.pid!); i++) execFileSync('sleep', ['0.1']);
      if (isAlive(child.pid!)) child.kill('SIGKILL');
    }
    // What an engine that could not clean up leaves: its containerd and shims (they name our
    // paths), and container processes (in the /docker cgroups, when we made them).
    const created = dockerCgroups().filter((cg) => !hadCgroups.has(cg));
    const leftovers = [...processesNaming([dataRoot, `${EXEC_ROOT}/`]), ...created.flatMap(cgroupProcs)];
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (let i = 0; i < 100 && leftovers.some(isAlive); i++) execFileSync('sleep', ['0.05']);
    for (const m of mountsUnder([dataRoot, EXEC_ROOT])) {
      try {
        execFileSync('umount', ['-l', m], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    for (const cg of created) removeCgroupTree(cg);
    rmSync(EXEC_ROOT, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    if (!hadKey) rmSync(KEY_FILE, { force: true });
  });

  const end = Date.now() + 60_000;
  for (;;) {
    try {
      docker(['version', '--format', '{{.Server.Version}}']);
      break;
    } catch (err) {
      if (child.exitCode !== null) throw new Error(`dockerd exited (${child.exitCode}):\n${log}`, { cause: err });
      if (Date.now() > end) throw new Error(`dockerd did not answer within 60 s:\n${log}`, { cause: err });
      await delay(200);
    }
  }
  return { pid: child.pid!, host, client, docker };
}

/**
 * Loads one of the local cluster's images (scripts/images/build.ts: debug, web, pause) into the
 * engine, from the docker-archive tar the builder writes; returns its reference.
 */
export function loadImage(d: Dockerd, key: 'debug' | 'web' | 'pause'): string {
  const out = mkdtempSync(join(tmpdir(), 'knt-docker-image-'));
  try {
    sh(process.execPath, [join(ROOT, 'scripts/images/build.ts'), '--no-import', '--out', out, '--only', key], {
      timeoutMs: 120_000,
    });
    const tar = sh('ls', [out]).trim().split('\n')[0]!;
    const loaded = d.docker(['load', '-i', join(out, tar)]);
    const ref = /Loaded image: (\S+)/.exec(loaded)?.[1];
    if (!ref) throw new Error(`docker load said: ${loaded}`);
    return ref;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
