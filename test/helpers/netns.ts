// Real kernel objects for the agent tests: network namespaces with a veth to the root namespace,
// processes inside them, and cgroup directories named the way kubelet and the runtimes name them.
// Every name starts with knt-<random> so concurrent runs never meet, and every object is removed
// by cleanupAll() (call it in after(); it also runs on exit and on SIGINT/SIGTERM).
// Also here: running the agent under a given shell, since that is what every agent test does.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { agentPath, agentScript, installArgv } from '../../src/node/agent-install.ts';
import type { AgentExec } from '../../src/node/agent-ops.ts';

export const isRoot = process.getuid?.() === 0;

/** Outside CI a non-root run skips with this reason; in CI (CI=true) a missing prerequisite fails. */
export function prerequisiteSkip(tools: string[]): string | false {
  const missing = tools.filter((t) => !which(t));
  const problems = [...(isRoot ? [] : ['not root']), ...missing.map((t) => `${t} not installed`)];
  if (problems.length === 0) return false;
  if (process.env.CI === 'true' || isRoot) throw new Error(`agent tests need: ${problems.join(', ')}`);
  return `agent tests need root (${problems.join(', ')})`;
}

export function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = join(dir || '.', tool);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function rand(bytes = 3): string {
  return randomBytes(bytes).toString('hex');
}

// ---- cleanup registry ------------------------------------------------------------------------

const cleanups: Array<() => void> = [];

/** Runs every registered cleanup, newest first; one failing does not stop the others. */
export function cleanupAll(): void {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      fn();
    } catch (err) {
      process.stderr.write(`knt cleanup: ${String((err as Error).message ?? err)}\n`);
    }
  }
}

/** Registers FN (synchronous) to run at cleanup, e.g. removing files a test made the agent write. */
export function onCleanup(fn: () => void): void {
  cleanups.push(fn);
}

process.once('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanupAll();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

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

// ---- processes -------------------------------------------------------------------------------

/** Starts a process that is killed (SIGKILL) at cleanup if still running. */
export function track(child: ChildProcess): ChildProcess {
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export function netnsInodeOf(pid: number): string {
  return readlinkSync(`/proc/${pid}/ns/net`).replace(/\D/g, '');
}

async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

// ---- network namespaces ----------------------------------------------------------------------

export interface TestNetns {
  name: string;
  inode: string;
  /** Root-namespace end of the veth. */
  hostIf: string;
  /** Namespace end of the veth, named like a pod's. */
  nsIf: string;
  hostAddr: string;
  nsAddr: string;
  /** A long-running process inside the namespace (the "container"). */
  pid: number;
}

// 10.231.0.0/16 is ours for tests; a random /30 so concurrent runs pick different ones.
function freeSubnet(): [string, string] {
  const used = sh('ip', ['-4', '-o', 'addr', 'show']);
  for (;;) {
    const base = `10.231.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 64) * 4}`;
    const [a, b, c, d] = base.split('.').map(Number) as [number, number, number, number];
    const host = `${a}.${b}.${c}.${d + 1}`;
    const peer = `${a}.${b}.${c}.${d + 2}`;
    if (!used.includes(` ${host}/`) && !used.includes(` ${peer}/`)) return [host, peer];
  }
}

/** A namespace with a veth (host end in the root namespace, `eth0` inside) and a sleeper in it. */
export async function createNetns(opts: { nsIf?: string } = {}): Promise<TestNetns> {
  const id = rand();
  const name = `knt-${id}`;
  const hostIf = `knt-${id}h`;
  const nsIf = opts.nsIf ?? 'eth0';
  sh('ip', ['netns', 'add', name]);
  cleanups.push(() => quiet('ip', ['netns', 'del', name]));
  sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', name]);
  // Deleting one end deletes both; the namespace may outlive the run if a process lingers in it.
  cleanups.push(() => quiet('ip', ['link', 'del', hostIf]));
  const [hostAddr, nsAddr] = freeSubnet();
  sh('ip', ['addr', 'add', `${hostAddr}/30`, 'dev', hostIf]);
  sh('ip', ['link', 'set', hostIf, 'up']);
  sh('ip', ['-n', name, 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf]);
  sh('ip', ['-n', name, 'link', 'set', nsIf, 'up']);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  const sleeper = spawnInNetns(name, ['sleep', '600']);
  const inode = await waitInNetns(sleeper, name);
  return { name, inode, hostIf, nsIf, hostAddr, nsAddr, pid: sleeper.pid! };
}

/**
 * A veth from the root namespace into the network namespace of PID (a container's, made by a real
 * runtime), NSIF inside, a test /30 on both ends; removed at cleanup.
 */
export function vethToProcess(pid: number, nsIf = 'eth0'): { hostIf: string; hostAddr: string; nsAddr: string } {
  const hostIf = `knt-${rand()}h`;
  sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', String(pid)]);
  cleanups.push(() => quiet('ip', ['link', 'del', hostIf]));
  const [hostAddr, nsAddr] = freeSubnet();
  sh('ip', ['addr', 'add', `${hostAddr}/30`, 'dev', hostIf]);
  sh('ip', ['link', 'set', hostIf, 'up']);
  sh('nsenter', ['-t', String(pid), '-n', 'ip', 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf]);
  sh('nsenter', ['-t', String(pid), '-n', 'ip', 'link', 'set', nsIf, 'up']);
  return { hostIf, hostAddr, nsAddr };
}

/** A second veth into the namespace, e.g. to give it a default route via another interface. */
export function addVeth(ns: TestNetns, nsIf: string): { hostIf: string; hostAddr: string; nsAddr: string } {
  const hostIf = `knt-${rand()}h`;
  sh('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns.name]);
  cleanups.push(() => quiet('ip', ['link', 'del', hostIf]));
  const [hostAddr, nsAddr] = freeSubnet();
  sh('ip', ['addr', 'add', `${hostAddr}/30`, 'dev', hostIf]);
  sh('ip', ['link', 'set', hostIf, 'up']);
  sh('ip', ['-n', ns.name, 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf]);
  sh('ip', ['-n', ns.name, 'link', 'set', nsIf, 'up']);
  return { hostIf, hostAddr, nsAddr };
}

/** Runs `ip -n NS ARGS...` (route changes and the like inside the namespace). */
export function ipIn(ns: TestNetns, args: string[]): string {
  return sh('ip', ['-n', ns.name, ...args]);
}

/** Starts ARGV inside the namespace; `ip netns exec` execs in place, so child.pid is ARGV's. */
export function spawnInNetns(name: string, argv: string[]): ChildProcess {
  return track(spawn('ip', ['netns', 'exec', name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Waits until the process has entered the namespace; returns the namespace's inode. */
export async function waitInNetns(child: ChildProcess, name: string): Promise<string> {
  const want = sh('stat', ['-L', '-c', '%i', `/run/netns/${name}`]).trim();
  await until(`pid ${child.pid} to enter netns ${name}`, () => {
    try {
      return netnsInodeOf(child.pid!) === want;
    } catch {
      return false;
    }
  });
  return want;
}

/** A short-lived process that has already exited (and been reaped): its PID names nothing. */
export async function exitedPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

// ---- cgroups ---------------------------------------------------------------------------------

export type Hierarchy = 'pids' | 'systemd' | 'unified';
const HIERARCHY_PATH: Record<Hierarchy, string> = {
  pids: '/sys/fs/cgroup/pids',
  systemd: '/sys/fs/cgroup/systemd',
  unified: '/sys/fs/cgroup/unified',
};
// The line of /proc/PID/cgroup that names each hierarchy.
const HIERARCHY_LINE: Record<Hierarchy, RegExp> = {
  pids: /^\d+:pids:(.*)$/m,
  systemd: /^\d+:name=systemd:(.*)$/m,
  unified: /^0::(.*)$/m,
};

/** One private top directory per run, so kubepods/... below it never touches a real kubelet's. */
const runTop = `knt-${rand()}`;

/**
 * Moves PID into HIERARCHY/knt-RUN/REL (creating the directories). At cleanup the process goes
 * back to the cgroup it came from and the directories are removed, deepest first.
 */
export function moveToCgroup(pid: number, hierarchy: Hierarchy, rel: string): string {
  const root = HIERARCHY_PATH[hierarchy];
  const cgPath = `/${runTop}/${rel}`;
  const original = HIERARCHY_LINE[hierarchy].exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1] ?? '/';
  const parts = cgPath.split('/').filter(Boolean);
  const dirs = parts.map((_, i) => join(root, ...parts.slice(0, i + 1)));
  const created = dirs.filter((d) => !existsSync(d));
  for (const d of created) mkdirSync(d);
  cleanups.push(() => {
    try {
      if (isAlive(pid)) writeFileSync(join(root, original, 'cgroup.procs'), `${pid}\n`);
    } catch {
      // exited meanwhile
    }
    for (const d of created.reverse()) rmdirWhenEmpty(d);
  });
  writeFileSync(join(root, ...parts, 'cgroup.procs'), `${pid}\n`);
  return cgPath;
}

// A killed task leaves its cgroup a moment after it dies: retry briefly (synchronously, for exit).
function rmdirWhenEmpty(dir: string): void {
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw err;
      execFileSync('sleep', ['0.02']);
    }
  }
  throw new Error(`cgroup ${dir} still busy`);
}

export function podUid(): string {
  return randomUUID();
}

export function containerId(): string {
  return randomBytes(32).toString('hex');
}

// ---- running the agent -----------------------------------------------------------------------

export interface Shell {
  name: string;
  /** Absolute path and leading args; the test appends [AGENT_PATH, op, ...] or ['-c', script, '$0', ...]. */
  argv: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * A PATH directory like the debug image's: busybox applets for everything, but the real tcpdump,
 * util-linux nsenter, iproute2 ip and ss (minus any tool in WITHOUT).
 */
export function imageLikeBin(without: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'knt-bin-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const real = ['tcpdump', 'nsenter', 'ip', 'ss'];
  const busybox = which('busybox')!;
  for (const applet of sh(busybox, ['--list']).split('\n').filter(Boolean)) {
    if (!real.includes(applet) && !without.includes(applet)) symlinkSync(busybox, join(dir, applet));
  }
  for (const tool of real) if (!without.includes(tool)) symlinkSync(which(tool)!, join(dir, tool));
  return dir;
}

/** busybox ash with image-like tools (what the cluster runs), and dash with Debian's tools. */
export function shells(): Shell[] {
  return [
    { name: 'busybox sh', argv: [which('busybox')!, 'sh'], env: { ...process.env, PATH: imageLikeBin() } },
    { name: 'dash', argv: [which('dash')!], env: { ...process.env } },
  ];
}

export interface AgentResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** A running agent: its process, output so far, and its end. */
export interface RunningAgent {
  child: ChildProcess;
  stderr(): string;
  stdout(): Buffer;
  /** Resolves with the stderr line that matches RE (rejects if the agent ends first). */
  waitForStderr(re: RegExp, timeoutMs?: number): Promise<string>;
  done: Promise<AgentResult>;
}

let agentInstalled = false;

/**
 * Installs the agent on this machine as a debug pod gets it: the real installer, the real path
 * (/tmp/kubectl-netns/agent-DIGEST.sh, named by its digest, so runs of other versions never
 * meet). Once per process; a later install of the same agent is a no-op.
 */
export function installAgentHere(): void {
  if (agentInstalled) return;
  const [, ...args] = installArgv();
  execFileSync(which('dash') ?? 'sh', args, { input: agentScript(), stdio: ['pipe', 'ignore', 'inherit'] });
  agentInstalled = true;
}

/** SHELL's command line for ARGV from the builders: its 'sh' replaced by SHELL (installing the agent first). */
function localArgv(shell: Shell, argv: string[]): [string, ...string[]] {
  if (argv[0] !== 'sh' || (argv[1] !== '-c' && argv[1] !== agentPath()))
    throw new Error('expected an agent argv from the builders');
  if (argv[1] === agentPath()) installAgentHere();
  const [cmd, ...pre] = shell.argv as [string, ...string[]];
  return [cmd, ...pre, ...argv.slice(1)];
}

/**
 * Starts the agent as the exec API would: ARGV from the builders is ['sh', AGENT_PATH, op, ...]
 * (or ['sh', '-c', script, ...]); its 'sh' is replaced by SHELL. Killed at cleanup, and after timeoutMs.
 */
export function startAgent(
  shell: Shell,
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; stdin?: 'pipe' } = {},
): RunningAgent {
  const [cmd, ...args] = localArgv(shell, argv);
  const child = track(
    spawn(cmd, args, {
      env: { ...shell.env, ...opts.env },
      stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    }),
  );
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  const done = new Promise<AgentResult>((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err });
    });
  });
  let ended = false;
  void done.then(() => (ended = true));
  return {
    child,
    stderr: () => err,
    stdout: () => Buffer.concat(out),
    done,
    async waitForStderr(re, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const line = err.split('\n').find((l) => re.test(l));
        if (line !== undefined) return line;
        if (ended) throw new Error(`agent ended without printing ${re}; stderr:\n${err}`);
        if (Date.now() > end) throw new Error(`timed out waiting for ${re}; stderr:\n${err}`);
        await delay(20);
      }
    },
  };
}

/**
 * The agent run on this machine the way the exec API runs it in a debug pod (its argv, stdin,
 * stdout, stderr and exit status): for code that drives the agent through a session. Only the
 * transport differs; the agent and what it runs are real.
 */
export function localAgentExec(shell: Shell): AgentExec {
  return {
    exec(command, io) {
      const [cmd, ...args] = localArgv(shell, command);
      const child = track(
        spawn(cmd, args, {
          env: shell.env,
          stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        }),
      );
      if (io.stdin) io.stdin.pipe(child.stdin!);
      let stdoutBytes = 0;
      child.stdout!.on('data', (b: Buffer) => {
        stdoutBytes += b.length;
        io.stdout.write(b);
      });
      child.stderr!.on('data', (b: Buffer) => io.stderr?.write(b));
      return new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, signal) =>
          resolve({ exitCode: code ?? 128 + (signal ? osConstants.signals[signal] : 0), stdoutBytes }),
        );
      });
    },
  };
}

/** Runs the agent to its end. */
export function runAgent(
  shell: Shell,
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<AgentResult> {
  return startAgent(shell, argv, opts).done;
}

/** Runs a tool to its end and returns stdout (for tcpdump -r, tshark -r, ping). */
export function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
}

/** A file under a per-run temp directory that cleanup removes. */
export function tempFile(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'knt-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, name);
}
