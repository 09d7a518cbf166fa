// The client's side of the on-node agent (agent.sh): argv builders and parsers of what it prints.
// Pure apart from the agent's path (its digest, agent-install.ts). User input reaches the node only as argv
// words after the script; nothing here quotes or escapes into a shell string.
import { agentPath } from './agent-install.ts';
import { splitContainerId } from './container-id.ts';

/**
 * Agent exit statuses, the one table on the TS side (agent.sh's header and its fail() hold the
 * same numbers; a unit test compares them). 64+ so they stand apart from tcpdump's and nsenter's 1.
 */
export const AGENT_EXIT = {
  USAGE: { code: 64, hint: 'the agent was called with bad arguments; this is a bug in kubectl-netns' },
  NO_CONTAINER: {
    code: 65,
    hint: 'no process of the pod runs on its node; is the container running (not restarting or completed)?',
  },
  NO_TCPDUMP: { code: 66, hint: 'the debug image has no tcpdump; pass an --image that has tcpdump and nsenter' },
  NO_NSENTER: { code: 67, hint: 'the debug image has no nsenter; pass an --image that has util-linux nsenter' },
  NSENTER_DENIED: {
    code: 68,
    hint: 'the debug pod cannot enter the namespace: it needs hostPID and CAP_SYS_ADMIN, CAP_SYS_PTRACE (try --privileged)',
  },
  BAD_FILTER: {
    code: 69,
    hint: "tcpdump rejected the filter; check its syntax (see man pcap-filter), e.g. 'tcp port 80'",
  },
  NO_INTERFACE: { code: 70, hint: 'that interface does not exist in the pod; leave -i at auto, or use any' },
  NETNS_GONE: { code: 71, hint: 'the container exited or restarted meanwhile; run the command again' },
  CAPTURE_DENIED: {
    code: 72,
    hint: 'tcpdump may not capture: the debug pod needs CAP_NET_RAW and CAP_NET_ADMIN (try --privileged)',
  },
  CAPTURE_FAILED: { code: 73, hint: 'tcpdump could not start; its message above says why' },
  NO_CAPTURE: { code: 74, hint: 'that capture is no longer running' },
  NO_IP: {
    code: 75,
    hint: 'the debug image has no iproute2 ip (busybox ip cannot print JSON); pass an --image that has it',
  },
  NO_PEER: {
    code: 76,
    hint: "host-side capture needs a veth whose other end is in the node's network namespace (bridge CNIs such as bridge, flannel, calico); capture inside the pod instead",
  },
  NO_COMPRESSOR: {
    code: 77,
    hint: 'the debug image has neither zstd nor gzip; capture without --compress, or pass an --image that has one',
  },
  SPOOL_FAILED: {
    code: 78,
    hint: "the debug pod's spool volume is missing or full; capture without the spool (--no-spool), or give it room with --spool-size",
  },
  INSTALL_FAILED: {
    code: 79,
    hint: 'the agent could not be written into the debug pod; the debug image needs sh, head, sha256sum, stat and a writable /tmp',
  },
} as const;

export type AgentErrorCode = keyof typeof AGENT_EXIT;

/** The agent error name for an exit status, or undefined for statuses that are not the agent's. */
export function agentExitName(status: number): AgentErrorCode | undefined {
  return (Object.keys(AGENT_EXIT) as AgentErrorCode[]).find((k) => AGENT_EXIT[k].code === status);
}

/** The agent run as an op: the installed script by its path, then only argv words (see agent-install.ts). */
function agentArgv(op: string, args: string[]): string[] {
  return ['sh', agentPath(), op, ...args];
}

const POSITIVE_INT = /^[1-9][0-9]{0,8}$/;
const INODE = /^[1-9][0-9]{0,19}$/;
const AGENT_SUBNET =
  /^(?:[0-9a-f]{8}\/(?:[0-9]|[12][0-9]|3[0-2])|[0-9a-f]{32}\/(?:[0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$/;
const POD_UID = /^[0-9a-fA-F-]{1,64}$/;
const CONTAINER_ID = /^[A-Za-z0-9_-]{1,128}$/;
// Linux allows 15 bytes; ':' (alias labels) and '@' (ip's "eth0@if9") are accepted by the agent.
const IFACE = /^[A-Za-z0-9_.][A-Za-z0-9_.:@-]{0,14}$/;

/** Whether the agent accepts NAME for -i (checked up front so a bad name is a usage error). */
export function isInterfaceName(name: string): boolean {
  return IFACE.test(name);
}
const CAPTURE_ID = /^[A-Za-z0-9_-]{1,64}$/;

function countArg(value: number, what: string, max?: number): string {
  const s = String(value);
  if (!Number.isSafeInteger(value) || !POSITIVE_INT.test(s))
    throw new RangeError(`${what} must be a positive integer, got ${s}`);
  if (max !== undefined && value > max) throw new RangeError(`${what} must be at most ${max}, got ${s}`);
  return s;
}

function checked(value: string, re: RegExp, what: string): string {
  if (!re.test(value)) throw new RangeError(`invalid ${what}: ${JSON.stringify(value)}`);
  return value;
}

// argv cannot carry NUL; everything else in user words is data.
function words(list: readonly string[], what: string): string[] {
  for (const w of list)
    if (typeof w !== 'string' || w.includes('\0')) throw new RangeError(`${what} contains a NUL byte`);
  return [...list];
}

/** The pod UID that makes a capture armed: it reads the real one from stdin when the pod exists. */
export const ARMED_UID = '-';

/** The line that aims an armed capture at its pod, as the agent reads it on stdin. */
export function armedAimLine(uid: string, hostNetwork: boolean): string {
  return `${checked(uid, POD_UID, 'pod UID')}${hostNetwork ? ' hostNetwork' : ''}\n`;
}

/** `pid`: find a process of the pod (by its containers' ids, else by the pod UID). */
export function pidArgv(o: { podUid: string; containerIds: readonly string[] }): string[] {
  const ids = o.containerIds.map((id) => checked(splitContainerId(id).id, CONTAINER_ID, 'container id'));
  return agentArgv('pid', ['--uid', checked(o.podUid, POD_UID, 'pod UID'), ...ids]);
}

/** How the capture's stdout is compressed on the node: auto is zstd where the image has it, else gzip. */
export type CaptureCompression = 'auto' | 'zstd' | 'gzip';

export interface CaptureOptions {
  /** The process whose network namespace to capture in; or find, or waitForPod. */
  pid?: number | undefined;
  /** A running pod whose process the agent finds itself (as the pid op does), in the same exec. */
  find?: { podUid: string; containerIds: readonly string[] } | undefined;
  /**
   * Wait up to `seconds` for the first process of pod `uid` (its sandbox) and capture there. With
   * uid ARMED_UID the agent reads the UID from stdin first (see RemoteCapture's armed captures).
   * hostNetwork: the pod shares the node's network, so its first process is already where it
   * belongs (otherwise the agent waits for one that has entered a namespace of its own).
   */
  waitForPod?: { uid: string; seconds: number; hostNetwork?: boolean | undefined } | undefined;
  /** 'auto' (default route's interface), 'any', or an interface name inside the pod. */
  iface?: string | undefined;
  snaplen?: number | undefined;
  count?: number | undefined;
  durationSeconds?: number | undefined;
  /** Kernel capture buffer in KiB (tcpdump -B); the agent defaults to 32768. */
  bufferKiB?: number | undefined;
  /** Stay after tcpdump ends until `ack` (see ackArgv): Kubernetes drops stdout in flight at exit. */
  awaitAck?: boolean | undefined;
  /** Lets stop/stats find this capture; without it they cannot. */
  id?: string | undefined;
  /** tcpdump filter words, passed as they are. */
  filter: readonly string[];
  /** Capture on the node's end of the pod's veth (the debug pod must use hostNetwork). */
  hostSide?: boolean | undefined;
  /**
   * Capture on the node's own interface IFACE (a hostNetwork debug pod), not in a pod: no pid,
   * find or waitForPod.
   */
  node?: boolean | undefined;
  /** Compress the pcap on the node (for slow links to the API server); the client decompresses. */
  compress?: CaptureCompression | undefined;
  /** tcpdump writes a ring of files on the node and the stream reads it (see spool-stream.ts); needs id. */
  spool?: SpoolOptions | undefined;
  /**
   * tcpdump prints its counters on the capture's stderr every this many seconds (for a live
   * status): no exec per tick, the capture's own stream carries them.
   */
  statsEverySeconds?: number | undefined;
}

/** Where and how big a capture's ring on the node is. */
export interface SpoolOptions {
  /** The capture's own directory (the agent creates it; its parent is the pod's spool volume). */
  dir: string;
  /** Files in the ring, the one being written included (at least 2). */
  ringFiles: number;
  /** Size of each file in millions of bytes (tcpdump -C). */
  fileMB: number;
  /** "KEY VALUE" lines kept with the spool, for listings. */
  meta?: readonly string[] | undefined;
}

const SPOOL_DIR = /^\/[A-Za-z0-9/_.-]{1,199}$/;
const META_LINE = /^[a-z][a-z_-]{0,31} [^\n\r\0]{1,400}$/;

/** A spool directory the agent accepts: absolute, plain characters, no "..". */
function spoolDir(dir: string): string {
  if (!SPOOL_DIR.test(dir) || dir.split('/').includes('..') || dir.includes('//')) {
    throw new RangeError(`invalid spool directory: ${JSON.stringify(dir)}`);
  }
  return dir;
}

function spoolArgs(s: SpoolOptions): string[] {
  if (!Number.isSafeInteger(s.ringFiles) || s.ringFiles < 2) throw new RangeError('a ring needs at least 2 files');
  return [
    '--spool',
    spoolDir(s.dir),
    '--ring-files',
    countArg(s.ringFiles, 'ring files'),
    '--file-mb',
    countArg(s.fileMB, 'file size'),
    ...(s.meta ?? []).flatMap((m) => ['--meta', checked(m, META_LINE, 'spool meta line')]),
  ];
}

/** `capture`: tcpdump in the pid's network namespace, pcap on stdout. */
export function captureArgv(o: CaptureOptions): string[] {
  if (o.node && (o.pid !== undefined || o.find || o.waitForPod || o.hostSide || (o.iface ?? 'auto') === 'auto'))
    throw new RangeError("a node interface capture names the node's interface, and no pod");
  const where = o.node
    ? ['--node']
    : o.waitForPod !== undefined
      ? [
          '--uid',
          checked(o.waitForPod.uid, POD_UID, 'pod UID'),
          '--wait',
          countArg(o.waitForPod.seconds, 'wait'),
          ...(o.waitForPod.hostNetwork ? ['--host-network'] : []),
        ]
      : o.find !== undefined
        ? [
            '--uid',
            checked(o.find.podUid, POD_UID, 'pod UID'),
            ...o.find.containerIds.flatMap((id) => [
              '--cid',
              checked(splitContainerId(id).id, CONTAINER_ID, 'container id'),
            ]),
          ]
        : ['--pid', countArg(o.pid ?? 0, 'pid')];
  const args = [...where, '--iface', checked(o.iface ?? 'auto', IFACE, 'interface name')];
  if (o.snaplen !== undefined) args.push('--snaplen', countArg(o.snaplen, 'snaplen', 262144));
  if (o.count !== undefined) args.push('--count', countArg(o.count, 'count'));
  if (o.durationSeconds !== undefined) args.push('--duration', countArg(o.durationSeconds, 'duration'));
  if (o.bufferKiB !== undefined) args.push('--buffer', countArg(o.bufferKiB, 'buffer size', 4 * 1024 * 1024));
  if (o.id !== undefined) args.push('--id', checked(o.id, CAPTURE_ID, 'capture id'));
  if (o.awaitAck) args.push('--await-ack');
  if (o.compress !== undefined) args.push('--compress', checked(o.compress, /^(auto|zstd|gzip)$/, 'compression'));
  if (o.statsEverySeconds !== undefined) args.push('--stats-every', countArg(o.statsEverySeconds, 'stats interval'));
  if (o.hostSide) {
    if (o.iface === 'any') throw new RangeError('a host-side capture needs one interface of the pod, not any');
    args.push('--host-side');
  }
  if (o.spool !== undefined) {
    if (o.id === undefined) throw new RangeError('a spooled capture needs an id');
    args.push(...spoolArgs(o.spool));
  }
  return agentArgv('capture', [...args, '--', ...words(o.filter, 'filter')]);
}

/** `read`: a new reader of spool DIR from ring file SEQ, byte OFFSET, log from byte LOG (see spool-stream.ts). */
export function readArgv(o: {
  dir: string;
  from?: { seq: number; offset: number } | undefined;
  logOffset?: number | undefined;
  compress?: CaptureCompression | undefined;
}): string[] {
  const n = (v: number, what: string) => {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be a whole number, got ${v}`);
    return String(v);
  };
  const args = [spoolDir(o.dir)];
  if (o.from) args.push('--from', n(o.from.seq, 'ring file'), n(o.from.offset, 'offset'));
  if (o.logOffset) args.push('--log', n(o.logOffset, 'log offset'));
  if (o.compress !== undefined) args.push('--compress', checked(o.compress, /^(auto|zstd|gzip)$/, 'compression'));
  return agentArgv('read', args);
}

/** `spools`: every spool under ROOT (parsed by parseSpools). */
export function spoolsArgv(root: string): string[] {
  return agentArgv('spools', [spoolDir(root)]);
}

/** `spool-tar`: spool DIR's files as a tar stream. */
export function spoolTarArgv(dir: string): string[] {
  return agentArgv('spool-tar', [spoolDir(dir)]);
}

/** `spool-rm`: removes an ended capture's spool. */
export function spoolRmArgv(dir: string): string[] {
  return agentArgv('spool-rm', [spoolDir(dir)]);
}

/** `stop`: SIGINT to the capture's tcpdump, so it flushes and prints its counts. */
export function stopArgv(id: string): string[] {
  return agentArgv('stop', [checked(id, CAPTURE_ID, 'capture id')]);
}

/** `ack`: the client has every packet; a capture started with awaitAck may now exit. */
export function ackArgv(id: string): string[] {
  return agentArgv('ack', [checked(id, CAPTURE_ID, 'capture id')]);
}

/** `stats`: SIGUSR1 to the capture's tcpdump; the counts appear on the capture's stderr. */
export function statsArgv(id: string): string[] {
  return agentArgv('stats', [checked(id, CAPTURE_ID, 'capture id')]);
}

/** `exec`: run a command in the pid's network namespace; its exit status comes back unchanged. */
export function execArgv(o: { pid: number; command: readonly string[] }): string[] {
  if (o.command.length === 0 || o.command[0] === '') throw new RangeError('exec needs a command');
  return agentArgv('exec', ['--pid', countArg(o.pid, 'pid'), '--', ...words(o.command, 'command')]);
}

/**
 * `scan`: every network namespace on the node, as tagged records (parsed by node/scan.ts). With a
 * filter, only the node's namespace, the namespaces in `netns` and those that may hold an address
 * in `subnets` (HEX/BITS, from address-match.ts) are entered; the others are listed without their
 * interfaces.
 */
export function scanArgv(filter: { subnets?: readonly string[]; netns?: readonly string[] } = {}): string[] {
  return agentArgv('scan', [
    ...(filter.subnets ?? []).flatMap((s) => ['--addr', checked(s, AGENT_SUBNET, 'subnet')]),
    ...(filter.netns ?? []).flatMap((n) => ['--netns', checked(n, INODE, 'netns inode')]),
  ]);
}

/** `hold`: the client's hold on the pod; its stdin must stay open for as long as the client wants the pod. */
export function holdArgv(): string[] {
  return agentArgv('hold', []);
}

/** `detach`: the pod stays until its deadline, held or not (a detached capture's pod). */
export function detachArgv(): string[] {
  return agentArgv('detach', []);
}

/** `netinfo`: routes (and with sockets, listening sockets) of the pid's network namespace. */
export function netinfoArgv(o: { pid: number; sockets: boolean }): string[] {
  return agentArgv('netinfo', ['--pid', countArg(o.pid, 'pid'), ...(o.sockets ? ['--sockets'] : [])]);
}

const ADDRESS = /^[0-9a-fA-F.:]{2,45}$/;

/**
 * `route`: where packets to an address go, in a pod's network namespace (TO, with the host end of
 * the interface it uses) and in the node's (NODE_TO, a hostNetwork debug pod). Parsed by route.ts.
 */
export function routeArgv(o: {
  pod?: { podUid: string; containerIds: readonly string[] } | undefined;
  to?: string | undefined;
  nodeTo?: string | undefined;
}): string[] {
  if (o.to === undefined && o.nodeTo === undefined) throw new RangeError('route needs an address');
  if (o.to !== undefined && !o.pod) throw new RangeError("a pod's route needs the pod");
  const args = o.pod
    ? [
        '--uid',
        checked(o.pod.podUid, POD_UID, 'pod UID'),
        ...o.pod.containerIds.flatMap((id) => [
          '--cid',
          checked(splitContainerId(id).id, CONTAINER_ID, 'container id'),
        ]),
      ]
    : [];
  if (o.to !== undefined) args.push('--to', checked(o.to, ADDRESS, 'address'));
  if (o.nodeTo !== undefined) args.push('--node-to', checked(o.nodeTo, ADDRESS, 'address'));
  return agentArgv('route', args);
}

/** What `pid` prints: the PID on the node and the inode of its network namespace. */
export function parsePidOutput(stdout: string): { pid: number; netnsInode: string } {
  const m = /^([1-9][0-9]*) ([1-9][0-9]*)$/.exec(stdout.trim());
  if (!m) throw new Error(`unexpected output from the agent's pid lookup: ${JSON.stringify(stdout.slice(0, 200))}`);
  return { pid: Number(m[1]), netnsInode: m[2]! };
}

const ERROR_LINE = /^kubectl-netns-agent: error: ([A-Z_]+): (.*)$/;
const INFO_LINE = /^kubectl-netns-agent: info: (.*)$/;

/** The agent's error line among other stderr lines (tcpdump's, nsenter's), if there is one. */
export function parseAgentError(stderrText: string): { code: AgentErrorCode; message: string } | undefined {
  let found: { code: AgentErrorCode; message: string } | undefined;
  for (const line of stderrText.split(/\r?\n/)) {
    const m = ERROR_LINE.exec(line);
    if (m && m[1]! in AGENT_EXIT) found = { code: m[1] as AgentErrorCode, message: m[2]! };
  }
  return found;
}

/** The message of an agent info line, e.g. "capturing on eth0 in netns 4026532308 (pid 4242)". */
export function parseAgentInfo(line: string): string | undefined {
  return INFO_LINE.exec(line.replace(/\r$/, ''))?.[1];
}

/** Whether LINE is an armed capture's "ready": its checks passed and it waits for the pod UID on stdin. */
export function isArmedLine(line: string): boolean {
  return parseAgentInfo(line) === 'armed: waiting for a pod UID on stdin';
}

/** The interface, netns and pid a capture actually uses (the answer to `-i auto`), from its info line. */
export function parseCaptureInfo(line: string): { iface: string; netnsInode: string; pid: number } | undefined {
  const m = /^capturing on (\S+) in netns ([0-9]+) \(pid ([0-9]+)\)$/.exec(parseAgentInfo(line) ?? '');
  return m ? { iface: m[1]!, netnsInode: m[2]!, pid: Number(m[3]) } : undefined;
}

/**
 * An info MESSAGE "capture clock start|end SECONDS.NANOS": the node's wall clock when tcpdump
 * started or ended, as nanoseconds since the epoch (a bigint: a number cannot hold them exactly).
 */
export function parseCaptureClock(message: string): { edge: 'start' | 'end'; epochNs: bigint } | undefined {
  const m = /^capture clock (start|end) ([0-9]{1,12})\.([0-9]{1,9})$/.exec(message);
  if (!m) return undefined;
  return { edge: m[1] as 'start' | 'end', epochNs: BigInt(m[2]!) * 1_000_000_000n + BigInt(m[3]!.padEnd(9, '0')) };
}

export interface TcpdumpStats {
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
  /** Only printed by tcpdump when non-zero. */
  droppedByInterface?: number;
}

// tcpdump's final block puts each count on its own line; on SIGUSR1 it prints them on one line:
// "tcpdump: 5 packets captured, 7 packets received by filter, 0 packets dropped by kernel".
const STATS =
  /([0-9]+) packets? captured(?:, |\r?\n)([0-9]+) packets? received by filter(?:, |\r?\n)([0-9]+) packets? dropped by kernel(?:(?:, |\r?\n)([0-9]+) packets? dropped by interface)?/g;

/** The latest complete set of tcpdump counts in TEXT (final 3-line block or SIGUSR1 line). */
export function parseTcpdumpStats(text: string): TcpdumpStats | undefined {
  let last: RegExpExecArray | undefined;
  for (const m of text.matchAll(STATS)) last = m;
  if (!last) return undefined;
  const stats: TcpdumpStats = {
    captured: Number(last[1]),
    receivedByFilter: Number(last[2]),
    droppedByKernel: Number(last[3]),
  };
  if (last[4] !== undefined) stats.droppedByInterface = Number(last[4]);
  return stats;
}

const STAT_LINE: ReadonlyArray<[RegExp, keyof TcpdumpStats]> = [
  [/([0-9]+) packets? captured/, 'captured'],
  [/([0-9]+) packets? received by filter/, 'receivedByFilter'],
  [/([0-9]+) packets? dropped by kernel/, 'droppedByKernel'],
  [/([0-9]+) packets? dropped by interface/, 'droppedByInterface'],
];

/** The counts on ONE stderr line, for line-by-line readers: merge results to follow the final block. */
export function parseTcpdumpStatsLine(line: string): Partial<TcpdumpStats> | undefined {
  if (!/^(?:tcpdump: )?[0-9]+ packets? /.test(line)) return undefined;
  const out: Partial<TcpdumpStats> = {};
  for (const [re, key] of STAT_LINE) {
    const m = re.exec(line);
    if (m) out[key] = Number(m[1]);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
