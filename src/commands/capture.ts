// `kubectl netns capture TARGET`: tcpdump inside the pod's network namespace, streamed back as pcap
// to a file, stdout or Wireshark. Reads top to bottom: plan (pure) → resolve the target → open the
// output → debug pod → remote capture pumped into the output → finish the output → summary.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs, type RunContext } from '../cli/global.ts';
import { TARGET_KINDS, withContainer } from '../cli/options.ts';
import { parseDuration, parsePositiveInt } from '../cli/parse.ts';
import { exitCodeForSignal, receivedSignal } from '../signals.ts';
import { ExitCode, usageError, UserError } from '../errors.ts';
import { info, warn } from '../log.ts';
import { parseTarget, type ResolvedTarget, type TargetRef } from '../kube/target.ts';
import { resolveTargets } from '../kube/targets.ts';
import { parseByteSize, validateRotationOptions, type RotationOptions } from '../pcap/rotation.ts';
import { DEFAULT_SPOOL_BYTES, MIN_SPOOL_BYTES } from '../node/spool-plan.ts';
import { incomplete, podSpool, reconnectReports, remoteSpool } from './shared/spool-options.ts';
import { withDebugPod } from '../kube/with-debug-pod.ts';
import { debugPodRights } from '../kube/access.ts';
import { isInterfaceName } from '../node/agent.ts';
import { RemoteCapture, type CaptureOutcome } from '../node/remote-capture.ts';
import { CaptureOutput } from '../output/capture-output.ts';
import {
  assertNotTerminal,
  fileSink,
  pipeSink,
  prepareDirectory,
  stdoutSink,
  type CaptureSink,
} from '../output/sink.ts';
import { findWireshark, wiresharkSink } from '../output/wireshark.ts';
import { reportLeftoverPartials } from '../output/partial-files.ts';
import { dirname } from 'node:path';
import { resolveOneTarget } from './shared/target.ts';
import { captureMany, type ManyOutput, type ManyPlan } from './shared/capture-many.ts';
import { checkPodMemory, DEFAULT_MAX_NODES, DEFAULT_MAX_TARGETS } from './shared/limits.ts';
import { MAX_MEMORY_MIB } from '../kube/debug-pod.ts';
import { planDetach } from './shared/detach-plan.ts';
import { captureDetached } from './shared/detach-start.ts';

export interface CaptureArgs extends GlobalArgs {
  target?: string | undefined;
  targets?: string[] | undefined;
  selector?: string | undefined;
  'all-namespaces'?: boolean | undefined;
  follow?: boolean | undefined;
  wait?: boolean | undefined;
  format?: 'pcap' | 'pcapng' | undefined;
  'rotate-size'?: string | undefined;
  'rotate-every'?: string | undefined;
  'rotate-count'?: number | undefined;
  container?: string | undefined;
  filter?: string | undefined;
  interface: string;
  snaplen?: number | undefined;
  count?: number | undefined;
  duration?: string | undefined;
  output?: string | undefined;
  wireshark: boolean;
  overwrite: boolean;
  'buffer-size': number;
  'max-targets': number;
  'max-nodes': number;
  'all-nodes'?: boolean | undefined;
  'host-side'?: boolean | undefined;
  compress?: boolean | undefined;
  spool?: boolean | undefined;
  'spool-size'?: string | undefined;
  'reconnect-timeout'?: string | undefined;
  detach?: boolean | undefined;
  keep?: string | undefined;
  '--'?: Array<string | number> | undefined;
}

/** The defaults of capture's own flags that every capture needs: the parser's, and the extcap's. */
export const CAPTURE_DEFAULTS = {
  interface: 'auto',
  wireshark: false,
  overwrite: false,
  'buffer-size': 32,
  'max-targets': DEFAULT_MAX_TARGETS,
  'max-nodes': DEFAULT_MAX_NODES,
} as const;

export type OutputPlan =
  | { kind: 'file'; path: string }
  | { kind: 'stdout' }
  | { kind: 'wireshark' }
  /** Wireshark's extcap FIFO: Wireshark made it for this capture, so it is written in place as it is. */
  | { kind: 'extcap-fifo'; path: string }
  /** -o DIR/: one pcap file per pod. */
  | { kind: 'dir'; path: string };

export interface CapturePlan {
  /** What to capture: the TARGETs given, and -l. */
  refs: TargetRef[];
  selector: string | undefined;
  allNamespaces: boolean;
  follow: boolean;
  wait: boolean;
  /** --format, when given; otherwise pcap for one pod, pcapng for more. */
  format: 'pcap' | 'pcapng' | undefined;
  /** --rotate-*: write a ring of files instead of one. */
  rotation: RotationOptions | undefined;
  /** The file name is ours (no -o): its extension follows the format. */
  defaultName: boolean;
  filter: string[];
  iface: string;
  snaplen: number | undefined;
  count: number | undefined;
  durationSeconds: number | undefined;
  bufferKiB: number;
  output: OutputPlan;
  /** Replace an existing output file (--overwrite / --force). */
  overwrite: boolean;
  /** Capture on the node's end of the pod's veth instead of inside the pod. */
  hostSide: boolean;
  /** Compress on the node (zstd, else gzip) and decompress here: for slow links to the API server. */
  compress: boolean;
  /** The most captures at once (--max-targets). */
  maxTargets: number;
  /** The most nodes with a debug pod (--max-nodes). */
  maxNodes: number;
  /** --follow/--wait arm every Ready node, not only those where the pods may run. */
  allNodes: boolean;
  /** Bytes of each capture's ring on the node (the stream reads it); undefined (the default): straight from tcpdump. */
  spoolBytes: number | undefined;
  /** Spooled: how long to keep reconnecting after the stream breaks (0: not at all). */
  reconnectSeconds: number;
  /** --detach: the capture runs on without us; its data is kept KEEPSECONDS after --duration. */
  detach: { keepSeconds: number } | undefined;
}

/** How long after a broken stream a capture keeps trying to reconnect, by default. */
export const DEFAULT_RECONNECT_SECONDS = 60;

/**
 * Checks the flags and decides what to do, without touching the cluster. EXTCAP_FIFO: the output is
 * the FIFO Wireshark gave the extcap (never a flag: see runCapture). Pure.
 */
export function planCapture(a: CaptureArgs, now: Date = new Date(), extcapFifo?: string): CapturePlan {
  const words = (a['--'] ?? []).map(String);
  if (a.filter !== undefined && words.length > 0) {
    throw usageError('give the filter either with --filter or after --, not both');
  }
  const filter = a.filter !== undefined ? [a.filter] : words;
  if (!isInterfaceName(a.interface)) throw usageError(`invalid interface name "${a.interface}" for --interface`);
  if (a['host-side'] && a.interface === 'any') {
    throw usageError(
      '--host-side needs one interface of the pod, not any',
      "leave -i at auto (the pod's main interface) or name it, e.g. -i eth0",
    );
  }
  if (a.wireshark && a.output !== undefined) {
    throw usageError(
      '--wireshark and --output are mutually exclusive',
      'Wireshark reads the packets itself; use one of them',
    );
  }
  const targets = [a.target, ...(a.targets ?? [])].filter((t): t is string => t !== undefined);
  const refs = targets.map(parseTarget);
  if (refs.length === 0 && a.selector === undefined) {
    throw usageError(
      'what should be captured?',
      'give one or more TARGETs (POD, deploy/NAME, svc/NAME, ...) or -l SELECTOR',
    );
  }
  if (a['all-namespaces'] && a.selector === undefined) {
    throw usageError('-A (--all-namespaces) goes with -l SELECTOR', 'e.g. kubectl netns capture -A -l app=web');
  }
  if (a.wait && (refs.length !== 1 || a.selector !== undefined)) {
    throw usageError(
      '--wait captures one pod that does not run yet: give exactly one TARGET',
      'for every pod that appears, use --follow',
    );
  }
  const rotation = planRotation(a);
  const dir = a.output !== undefined && a.output !== '-' && a.output.endsWith('/');
  if (rotation && (a.wireshark || a.output === '-' || dir)) {
    throw usageError(
      '--rotate-size, --rotate-every and --rotate-count write files',
      'give -w FILE (the files are numbered after it)',
    );
  }
  if (a.format === 'pcap' && (refs.length > 1 || a.selector !== undefined || a.follow || a.wait || rotation)) {
    throw usageError(
      '--format pcap holds one running pod',
      'several pods (or --follow, --wait, or rotation) go into pcapng, where each pod is its own interface',
    );
  }
  if (a['all-nodes'] && !a.follow && !a.wait)
    throw usageError('--all-nodes goes with --follow or --wait', 'it arms every node for pods that appear later');
  if (dir && a.format === 'pcapng')
    throw usageError('-w DIR/ writes one pcap file per pod', 'for one pcapng file, give -w FILE');
  const durationSeconds = a.duration === undefined ? undefined : parseDuration(a.duration, '--duration');
  const detach = planDetach(a, durationSeconds);
  const spoolBytes = planSpool(a) ?? (detach ? DEFAULT_SPOOL_BYTES : undefined);
  if (spoolBytes === undefined && a['reconnect-timeout'] !== undefined)
    throw usageError(
      '--reconnect-timeout goes with --spool',
      'only a spooled capture can continue after its stream broke',
    );
  const name = a.target ?? (a.selector ? a.selector.replace(/[^A-Za-z0-9_.-]+/g, '_') : 'capture');
  const output: OutputPlan = extcapFifo
    ? { kind: 'extcap-fifo', path: extcapFifo }
    : a.wireshark
      ? { kind: 'wireshark' }
      : a.output === '-'
        ? { kind: 'stdout' }
        : dir
          ? { kind: 'dir', path: a.output! }
          : { kind: 'file', path: a.output ?? defaultFileName(name, now) };
  return {
    refs,
    selector: a.selector,
    allNamespaces: a['all-namespaces'] === true,
    follow: a.follow === true,
    wait: a.wait === true,
    format: a.format,
    rotation,
    defaultName: a.output === undefined && !a.wireshark && !extcapFifo,
    filter,
    iface: a.interface,
    snaplen: a.snaplen === undefined ? undefined : parsePositiveInt(a.snaplen, '--snaplen', 262144),
    count: a.count === undefined ? undefined : parsePositiveInt(a.count, '--count'),
    durationSeconds,
    bufferKiB: parsePositiveInt(a['buffer-size'], '--buffer-size', 4096) * 1024,
    output,
    overwrite: a.overwrite === true,
    hostSide: a['host-side'] === true,
    compress: a.compress === true,
    maxTargets: parsePositiveInt(a['max-targets'], '--max-targets'),
    maxNodes: parsePositiveInt(a['max-nodes'], '--max-nodes'),
    allNodes: a['all-nodes'] === true,
    spoolBytes,
    reconnectSeconds:
      a['reconnect-timeout'] === undefined
        ? DEFAULT_RECONNECT_SECONDS
        : /^0+[a-z]*$/.test(a['reconnect-timeout'].trim())
          ? 0
          : parseDuration(a['reconnect-timeout'], '--reconnect-timeout'),
    detach,
  };
}

/**
 * --spool / --spool-size: the ring's size in bytes, or undefined for no ring (the default: the
 * spool is opt-in until it has been proven on the e2e tests that guard the default capture, see
 * docs/spool.md). Pure.
 */
function planSpool(a: CaptureArgs): number | undefined {
  if (a.spool === false) {
    if (a['spool-size'] !== undefined) throw usageError('--spool-size sizes the ring that --no-spool turns off');
    return undefined;
  }
  if (a['spool-size'] === undefined) return a.spool === true ? DEFAULT_SPOOL_BYTES : undefined;
  let bytes: number;
  try {
    bytes = parseByteSize(a['spool-size']);
  } catch (err) {
    throw usageError(`--spool-size: ${(err as Error).message}`);
  }
  if (bytes < MIN_SPOOL_BYTES) throw usageError(`--spool-size must be at least 2MB (got "${a['spool-size']}")`);
  return bytes;
}

/** --rotate-size/--rotate-every/--rotate-count, checked; undefined without any. Pure. */
function planRotation(a: CaptureArgs): RotationOptions | undefined {
  if (a['rotate-size'] === undefined && a['rotate-every'] === undefined && a['rotate-count'] === undefined)
    return undefined;
  const o: RotationOptions = {};
  try {
    if (a['rotate-size'] !== undefined) {
      try {
        o.maxBytes = parseByteSize(a['rotate-size']);
      } catch (err) {
        throw usageError(`--rotate-size: ${(err as Error).message}`);
      }
    }
    if (a['rotate-every'] !== undefined) o.everySeconds = parseDuration(a['rotate-every'], '--rotate-every');
    if (a['rotate-count'] !== undefined) o.keepFiles = parsePositiveInt(a['rotate-count'], '--rotate-count');
    validateRotationOptions(o);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw usageError((err as Error).message, 'e.g. --rotate-size 100MB --rotate-count 5, or --rotate-every 10m');
  }
  return o;
}

/** `web-7d9-20261122T101500.pcap`: named after the target and the start time, in the current directory. */
function defaultFileName(target: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${target.replace(/^.*\//, '')}-${stamp}.pcap`;
}

export const capture = defineCommand<CaptureArgs>({
  name: 'capture',
  positionals: '[target] [targets..]',
  completes: 'pods',
  summary: "Capture packets in a pod's network namespace (pcap to a file, stdout or Wireshark)",
  usage: 'capture (TARGET... | -l SELECTOR) [flags] [-- FILTER...]',
  examples: [
    ['All traffic of pod web-7d9, into web.pcap', 'capture web-7d9 -w web.pcap'],
    [
      'Every running pod of deployment web in shop, port 8080 only, into one pcapng',
      'capture deploy/web -n shop -w web.pcapng -- tcp port 8080',
    ],
    ['Every pod labelled app=web, each its own named interface in one file', 'capture -l app=web -w web.pcapng'],
    ['The pods behind service web, and each pod that joins it from its birth', 'capture svc/web --follow'],
    ['Leave it running: 50 MB files, only the newest 5 kept', 'capture svc/web --rotate-size 50MB --rotate-count 5'],
    ['Live into Wireshark', 'capture web-7d9 --wireshark'],
    ['Capture on the node for an hour, fetch it later (prints its ID)', 'capture web-7d9 --detach --duration 1h'],
    ['Through a pipe, into any pcap reader', 'capture web-7d9 -w - | tcpdump -nr -'],
    ['Stop after 100 packets or 30 seconds, whichever comes first', 'capture web-7d9 --count 100 --duration 30s'],
    [
      'Debug pod in its own namespace, so that shop can stay "restricted"',
      'capture web-7d9 -n shop --debug-namespace kubectl-netns-debug',
    ],
  ],
  builder: (y) =>
    withContainer(
      y
        .positional('target', {
          type: 'string',
          describe: `What to capture: ${TARGET_KINDS}; a workload or svc/ means all its running pods`,
        })
        .positional('targets', { type: 'string', array: true, describe: 'More targets, all into one pcapng' }),
    )
      .option('filter', {
        alias: 'f',
        type: 'string',
        describe: "tcpdump filter expression, e.g. 'tcp port 80' (or give the words after --)",
      })
      .option('interface', {
        alias: 'i',
        type: 'string',
        default: CAPTURE_DEFAULTS.interface,
        describe:
          "Interface in the pod: auto = the default route's interface (Ethernet link type, readable by every Wireshark); any = all interfaces incl. lo (LINUX_SLL2)",
      })
      .option('snaplen', {
        alias: 's',
        type: 'number',
        describe: "Bytes to keep per packet (default: tcpdump's 262144, i.e. whole packets)",
      })
      .option('count', { type: 'number', describe: 'Stop after this many packets' })
      .option('duration', {
        type: 'string',
        describe: "Stop after this long, e.g. 30s, 5m (also bounds the debug pod's lifetime)",
      })
      // tcpdump's -w, and kubectl users' -o: capture has one format (pcap), so -o names the file.
      .option('output', {
        alias: ['w', 'o'],
        type: 'string',
        describe:
          'Write the capture to FILE (a named pipe of yours is written in place, with --overwrite), or - for stdout (refused on a terminal). Default: TARGET-TIME.pcap',
      })
      .option('overwrite', {
        alias: 'force',
        type: 'boolean',
        default: CAPTURE_DEFAULTS.overwrite,
        describe:
          'Replace the output file if it exists, or write into your named pipe there (without this, anything at the path is an error)',
      })
      .option('wireshark', {
        type: 'boolean',
        default: CAPTURE_DEFAULTS.wireshark,
        describe: 'Start Wireshark and stream packets into it live',
      })
      .option('selector', {
        alias: 'l',
        type: 'string',
        describe: 'Capture every running pod with these labels, e.g. -l app=web (with -A in every namespace)',
      })
      .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'With -l: look in every namespace' })
      .option('follow', {
        type: 'boolean',
        describe:
          'Also capture pods of the targets that appear while capturing (from their birth), until Ctrl-C or --duration',
      })
      .option('wait', {
        type: 'boolean',
        describe:
          'If the TARGET does not run yet, wait for it (e.g. the next pod of a Job) and capture it from its birth',
      })
      .option('format', {
        choices: ['pcap', 'pcapng'] as const,
        describe: 'pcap (one pod only) or pcapng (each pod its own interface; the default for several pods)',
      })
      .option('rotate-size', {
        type: 'string',
        describe: 'Start a new file before one grows past SIZE, e.g. 100MB (pcapng)',
      })
      .option('rotate-every', { type: 'string', describe: 'Start a new file every DURATION, e.g. 10m (pcapng)' })
      .option('rotate-count', { type: 'number', describe: 'Keep only the newest N files (a ring buffer)' })
      .option('host-side', {
        type: 'boolean',
        default: false,
        describe:
          "Capture on the node's end of the pod's veth (-i names the pod's interface), e.g. to see what leaves the pod before the node's firewall",
      })
      .option('compress', {
        type: 'boolean',
        default: false,
        describe:
          'Compress packets on the node (zstd if the debug image has it, else gzip) for a slow connection to the cluster (VPN, bastion); costs CPU on the node',
      })
      .option('spool', {
        type: 'boolean',
        describe:
          'Keep every packet in a ring on the node that the stream reads, so a slow or broken connection loses nothing (off by default: straight from tcpdump)',
      })
      .option('spool-size', {
        type: 'string',
        describe:
          "The ring's size on the node, e.g. 2GB (implies --spool; default 512MB; the debug pod's ephemeral-storage limit grows with it)",
      })
      .option('reconnect-timeout', {
        type: 'string',
        describe:
          'With --spool: how long to keep reconnecting when the connection breaks, e.g. 5m (default 60s; 0: give up at once)',
      })
      .option('detach', {
        type: 'boolean',
        describe:
          'Start the capture on the node and return at once, printing its ID (needs --duration; implies --spool): list it with `captures`, read it with `fetch ID`, end it with `stop ID`',
      })
      .option('keep', {
        type: 'string',
        describe: `With --detach: how long its packets stay on the node after --duration, e.g. 2h (default 1h; duration and keep together at most 4h)`,
      })
      .option('buffer-size', {
        type: 'number',
        default: CAPTURE_DEFAULTS['buffer-size'],
        describe: `Kernel capture buffer in MiB (tcpdump -B); raise it if the summary reports packets dropped by kernel (a debug pod holds at most ${MAX_MEMORY_MIB} MiB)`,
      })
      .option('max-targets', {
        type: 'number',
        default: CAPTURE_DEFAULTS['max-targets'],
        describe:
          'The most pods captured at once; more is an error before anything starts (as kubectl logs --max-log-requests)',
      })
      .option('max-nodes', {
        type: 'number',
        default: CAPTURE_DEFAULTS['max-nodes'],
        describe: 'The most nodes that get a debug pod (one per node); more is an error before anything starts',
      })
      .option('all-nodes', {
        type: 'boolean',
        describe:
          'With --follow or --wait: arm every Ready node, not only those where the pods may be scheduled (nodeSelector, affinity, taints)',
      }),
  run: (a) => runCapture(a),
});

/** Opens where the pcap bytes go; WIRESHARK is the executable found up front; SIGNAL ends a wait for a pipe's reader. */
function openSink(
  plan: CapturePlan,
  wireshark: string | undefined,
  signal: AbortSignal,
): Promise<CaptureSink> | CaptureSink {
  const out = plan.output;
  if (out.kind === 'stdout') return stdoutSink();
  if (out.kind === 'wireshark') return wiresharkSink(wireshark ?? findWireshark());
  if (out.kind === 'extcap-fifo') return pipeSink(out.path, signal);
  return fileSink(out.path, { overwrite: plan.overwrite, signal });
}

/**
 * Runs a capture. A person's command line comes here through the parser; the Wireshark extcap
 * calls it directly with typed values and the FIFO Wireshark gave it (EXTCAP_FIFO), so no value
 * from Wireshark's dialog is ever read again as a flag.
 */
export async function runCapture(a: CaptureArgs, extcapFifo?: string): Promise<number> {
  const plan = { ...planCapture(a, new Date(), extcapFifo), quiet: a.quiet === true };
  if (plan.detach) return captureDetached(await runContext(a), plan, a.container);
  // Local output problems are found before any API call, let alone a debug pod.
  if (plan.output.kind === 'stdout') assertNotTerminal(process.stdout.isTTY);
  if (plan.output.kind === 'file' || plan.output.kind === 'dir') reportLeftoverPartials(outputDir(plan.output));
  if (plan.output.kind === 'dir') await prepareDirectory(plan.output.path);
  const wireshark = plan.output.kind === 'wireshark' ? findWireshark() : undefined;
  const ctx = await runContext(a);
  // The debug pod's RBAC reviews run while the target is looked up, not after.
  ctx.rights.prefetch(debugPodRights(ctx.debugNamespace ?? ctx.cfg.namespace));
  // One pod into classic pcap, unless what was asked for needs pcapng (or a directory).
  const single =
    plan.refs.length === 1 &&
    !plan.selector &&
    !plan.follow &&
    !plan.wait &&
    !plan.rotation &&
    plan.format !== 'pcapng' &&
    plan.output.kind !== 'dir';
  if (single && plan.refs[0]!.kind === 'pod')
    return captureOne(ctx, plan, await resolveOneTarget(ctx, a.target!, a.container), wireshark);
  const set = await resolveTargets(ctx.client, {
    refs: plan.refs,
    selector: plan.selector,
    namespace: ctx.cfg.namespace,
    allNamespaces: plan.allNamespaces,
    container: a.container,
    podMayNotExistYet: plan.wait,
  });
  if (single && set.targets.length === 1) {
    const target = set.targets[0]!;
    info(`${target.via}: capturing its one running pod ${target.pod}`);
    for (const w of target.warnings) warn(w);
    return captureOne(ctx, plan, target, wireshark);
  }
  if (plan.format === 'pcap' && set.targets.length > 1) {
    throw usageError(
      `--format pcap holds one pod; ${set.targets.length} pods match`,
      'leave --format out: several pods go into pcapng',
    );
  }
  if (plan.output.kind === 'file' && /\.pcap$/i.test(plan.output.path)) {
    // Wireshark and tshark go by the content; other tools and people go by the name.
    warn(`${plan.output.path} will hold pcapng (one interface per pod), not pcap: consider naming it .pcapng`);
  }
  return captureMany(ctx, manyPlan(plan, a), set, manyOutput(plan, wireshark, ctx.signal));
}

/** The directory a file or -w DIR/ output writes into. Pure. */
function outputDir(out: { kind: 'file' | 'dir'; path: string }): string {
  return out.kind === 'dir' ? out.path : dirname(out.path);
}

/** The many-target capture's share of the plan. Pure. */
function manyPlan(plan: CapturePlan, a: CaptureArgs): ManyPlan {
  return { ...plan, container: a.container, quiet: a.quiet === true };
}

/** Where a many-target capture writes: pcapng to the sink, a rotated ring of files, or a directory. */
function manyOutput(plan: CapturePlan, wireshark: string | undefined, signal: AbortSignal): ManyOutput {
  const out = plan.output;
  if (out.kind === 'dir') return { kind: 'dir', path: out.path };
  if (out.kind === 'file') {
    const path = plan.defaultName ? out.path.replace(/\.pcap$/, '.pcapng') : out.path;
    if (plan.rotation) return { kind: 'rotate', path };
    return { kind: 'sink', open: () => fileSink(path, { overwrite: plan.overwrite, signal }) };
  }
  return { kind: 'sink', open: () => openSink(plan, wireshark, signal) };
}

/** One pod, its packets into classic pcap: resolve → debug pod → remote capture → output → summary. */
async function captureOne(
  ctx: RunContext,
  plan: CapturePlan & { quiet?: boolean },
  target: ResolvedTarget,
  wireshark: string | undefined,
): Promise<number> {
  if (plan.hostSide && target.hostNetwork) {
    throw new UserError(`pod "${target.pod}" uses hostNetwork: it has no veth whose host side could be captured`, {
      exitCode: ExitCode.targetState,
      hint: 'capture without --host-side',
    });
  }

  checkPodMemory(1, plan.bufferKiB / 1024, `on node ${target.node}`);
  const output = new CaptureOutput(await openSink(plan, wireshark, ctx.signal), plan.quiet !== true);
  let outcome: CaptureOutcome | undefined;
  try {
    outcome = await withDebugPod(
      ctx,
      {
        namespace: ctx.debugNamespace ?? target.namespace,
        node: target.node,
        target,
        hostNetwork: plan.hostSide,
        durationSeconds: plan.durationSeconds,
        captureBuffersMiB: [plan.bufferKiB / 1024],
        ...podSpool(plan, 1),
      },
      async (pod) => {
        try {
          // The agent finds the target's process in the capture's own exec: no separate lookup.
          const remote = new RemoteCapture(pod, captureOptions(plan, target, output.statsEverySeconds), {
            onListening: (l) =>
              info(
                `capturing on ${l.iface} in ${target.namespace}/${target.pod} (node ${target.node}, ${l.linkType}) to ${output.description}${process.stdin.isTTY ? '; Ctrl-C to stop' : ''}`,
              ),
            onGap: (g) => output.noteGap(g),
            ...reconnectReports(`${target.namespace}/${target.pod}`, plan.reconnectSeconds),
          });
          return await output.pump(remote, ctx.signal);
        } finally {
          // The file is complete before the pod is deleted: a second Ctrl-C then loses nothing.
          await output.finish();
        }
      },
    );
  } finally {
    await output.finish();
    output.summary(outcome);
  }
  output.throwIfFailed();
  const sig = receivedSignal();
  if (sig) return exitCodeForSignal(sig);
  const lost = output.lost;
  if (lost) throw incomplete(lost);
  return ExitCode.ok;
}

/** The agent's capture options for PLAN in TARGET's network namespace (counters every STATS_EVERY s). Pure. */
export function captureOptions(
  plan: CapturePlan,
  target: ResolvedTarget,
  statsEvery: number | undefined,
): ConstructorParameters<typeof RemoteCapture>[1] {
  return {
    find: { podUid: target.podUid, containerIds: target.containerIds },
    iface: plan.iface,
    snaplen: plan.snaplen,
    count: plan.count,
    // The agent counts whole seconds; a fraction is rounded up rather than cut short.
    durationSeconds: plan.durationSeconds === undefined ? undefined : Math.ceil(plan.durationSeconds),
    bufferKiB: plan.bufferKiB,
    hostSide: plan.hostSide,
    filter: plan.filter,
    compress: plan.compress ? 'auto' : undefined,
    statsEverySeconds: statsEvery,
    ...remoteSpool(plan, [`target ${target.namespace}/${target.pod}`]),
  };
}
