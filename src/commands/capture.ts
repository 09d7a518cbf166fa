// `kubectl netns capture TARGET`: tcpdump inside the pod's network namespace, streamed back as pcap
// to a file, stdout or Wireshark. Reads top to bottom: plan (pure) → resolve the target → open the
// output → debug pod → remote capture pumped into the output → finish the output → summary.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs, type RunContext } from '../cli/global.ts';
import { withContainer, withTarget } from '../cli/options.ts';
import { parseDuration, parsePositiveInt } from '../cli/parse.ts';
import { exitCodeForSignal, receivedSignal } from '../cli/signals.ts';
import { asError, ExitCode, usageError, UserError } from '../errors.ts';
import { info } from '../log.ts';
import { withDebugPod } from '../kube/with-debug-pod.ts';
import { isInterfaceName } from '../node/agent.ts';
import { lookupPid } from '../node/agent-ops.ts';
import { RemoteCapture, type CaptureOutcome } from '../node/remote-capture.ts';
import { CaptureWriter } from '../output/capture-writer.ts';
import { assertNotTerminal, fileSink, stdoutSink, type CaptureSink } from '../output/sink.ts';
import { formatBytes, StatusLine } from '../output/status-line.ts';
import { findWireshark, wiresharkSink } from '../output/wireshark.ts';
import { resolveOneTarget } from './shared/target.ts';

export interface CaptureArgs extends GlobalArgs {
  target: string;
  container?: string | undefined;
  filter?: string | undefined;
  interface: string;
  snaplen?: number | undefined;
  count?: number | undefined;
  duration?: string | undefined;
  output?: string | undefined;
  wireshark: boolean;
  'buffer-size': number;
  'host-side'?: boolean | undefined;
  '--'?: Array<string | number> | undefined;
}

export type OutputPlan = { kind: 'file'; path: string } | { kind: 'stdout' } | { kind: 'wireshark' };

export interface CapturePlan {
  filter: string[];
  iface: string;
  snaplen: number | undefined;
  count: number | undefined;
  durationSeconds: number | undefined;
  bufferKiB: number;
  output: OutputPlan;
  /** Capture on the node's end of the pod's veth instead of inside the pod. */
  hostSide: boolean;
}

/** Checks the flags and decides what to do, without touching the cluster. Pure. */
export function planCapture(a: CaptureArgs, now: Date = new Date()): CapturePlan {
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
  const output: OutputPlan = a.wireshark
    ? { kind: 'wireshark' }
    : a.output === '-'
      ? { kind: 'stdout' }
      : { kind: 'file', path: a.output ?? defaultFileName(a.target, now) };
  return {
    filter,
    iface: a.interface,
    snaplen: a.snaplen === undefined ? undefined : parsePositiveInt(a.snaplen, '--snaplen', 262144),
    count: a.count === undefined ? undefined : parsePositiveInt(a.count, '--count'),
    durationSeconds: a.duration === undefined ? undefined : parseDuration(a.duration, '--duration'),
    bufferKiB: parsePositiveInt(a['buffer-size'], '--buffer-size', 4096) * 1024,
    output,
    hostSide: a['host-side'] === true,
  };
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
  positionals: '<target>',
  completes: 'pods',
  summary: "Capture packets in a pod's network namespace (pcap to a file, stdout or Wireshark)",
  builder: (y) =>
    withContainer(withTarget(y))
      .option('filter', {
        alias: 'f',
        type: 'string',
        describe: "tcpdump filter expression, e.g. 'tcp port 80' (or give the words after --)",
      })
      .option('interface', {
        alias: 'i',
        type: 'string',
        default: 'auto',
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
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'Write pcap to FILE, or - for stdout (refused on a terminal). Default: TARGET-TIME.pcap',
      })
      .option('wireshark', {
        type: 'boolean',
        default: false,
        describe: 'Start Wireshark and stream packets into it live',
      })
      .option('host-side', {
        type: 'boolean',
        default: false,
        describe:
          "Capture on the node's end of the pod's veth (-i names the pod's interface), e.g. to see what leaves the pod before the node's firewall",
      })
      .option('buffer-size', {
        type: 'number',
        default: 32,
        describe:
          'Kernel capture buffer in MiB (tcpdump -B); raise it if the summary reports packets dropped by kernel',
      })
      .example('$0 capture web-7d9 -o web.pcap', 'all traffic of pod web-7d9 into web.pcap')
      .example('$0 capture deploy/web -n shop -- tcp port 8080', 'one pod of deployment web, port 8080 only')
      .example('$0 capture web-7d9 -o - | wireshark -k -i -', 'live into Wireshark through a pipe')
      .example('$0 capture web-7d9 --count 100 --duration 30s', 'stop after 100 packets or 30 seconds'),
  run: runCapture,
});

/** Opens where the pcap bytes go; WIRESHARK is the executable found up front. */
function openSink(plan: OutputPlan, wireshark: string | undefined): Promise<CaptureSink> | CaptureSink {
  if (plan.kind === 'stdout') return stdoutSink();
  if (plan.kind === 'wireshark') return wiresharkSink(wireshark ?? findWireshark());
  return fileSink(plan.path);
}

async function runCapture(a: CaptureArgs): Promise<number> {
  const plan = planCapture(a);
  // Local output problems are found before any API call, let alone a debug pod.
  if (plan.output.kind === 'stdout') assertNotTerminal(process.stdout.isTTY);
  const wireshark = plan.output.kind === 'wireshark' ? findWireshark() : undefined;
  const ctx = await runContext(a);
  const target = await resolveOneTarget(ctx, a.target, a.container);
  if (plan.hostSide && target.hostNetwork) {
    throw new UserError(`pod "${target.pod}" uses hostNetwork: it has no veth whose host side could be captured`, {
      exitCode: ExitCode.targetState,
      hint: 'capture without --host-side',
    });
  }

  const output = new CaptureOutput(await openSink(plan.output, wireshark), a.quiet !== true);
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
      },
      async (pod) => {
        try {
          const { pid } = await lookupPid(pod, target, ctx.signal);
          const remote = new RemoteCapture(pod, captureOptions(plan, pid), {
            onListening: (l) =>
              info(
                `capturing on ${l.iface} in ${target.namespace}/${target.pod} (node ${target.node}, ${l.linkType}) to ${output.description}; Ctrl-C to stop`,
              ),
          });
          return await output.pump(remote, ctx);
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
  return sig ? exitCodeForSignal(sig) : ExitCode.ok;
}

/** The agent's capture options for PLAN in the process PID. Pure. */
function captureOptions(plan: CapturePlan, pid: number): ConstructorParameters<typeof RemoteCapture>[1] {
  return {
    pid,
    iface: plan.iface,
    snaplen: plan.snaplen,
    count: plan.count,
    // The agent counts whole seconds; a fraction is rounded up rather than cut short.
    durationSeconds: plan.durationSeconds === undefined ? undefined : Math.ceil(plan.durationSeconds),
    bufferKiB: plan.bufferKiB,
    hostSide: plan.hostSide,
    filter: plan.filter,
  };
}

/** The local end of one capture: the sink, the packet-counting writer in front of it, the status line. */
class CaptureOutput {
  private readonly sink: CaptureSink;
  private readonly writer: CaptureWriter;
  private readonly status: StatusLine;
  private readonly started = Date.now();
  private finishing: Promise<void> | undefined;
  private finishError: unknown;

  constructor(sink: CaptureSink, showStatus: boolean) {
    this.sink = sink;
    this.writer = new CaptureWriter(sink.stream);
    this.status = new StatusLine(process.stderr, showStatus);
  }

  get description(): string {
    return this.sink.description;
  }

  /** Streams REMOTE's packets into the sink until it ends; Ctrl-C or a reader that goes away stops it. */
  async pump(remote: RemoteCapture, ctx: RunContext): Promise<CaptureOutcome> {
    const onSignal = () => remote.stop('signal');
    ctx.signal.addEventListener('abort', onSignal, { once: true });
    void this.sink.gone.then(() => remote.abandon('the reader went away'));
    this.status.start(() => ({
      packets: this.writer.parser.packets,
      bytes: this.writer.parser.streamBytes,
      elapsedMs: Date.now() - this.started,
      droppedByKernel: remote.stats?.droppedByKernel,
    }));
    // Live kernel-drop counts for the status line: tcpdump prints its counters on SIGUSR1.
    const statsTimer = this.status.enabledFor(() => setInterval(() => remote.pollStats(), 2000));
    try {
      return await remote.run(this.writer, () => this.writer.parser.packets);
    } finally {
      if (statsTimer) clearInterval(statsTimer);
      ctx.signal.removeEventListener('abort', onSignal);
    }
  }

  /**
   * Ends the output once: complete records only, or no file at all when nothing arrived. Never
   * rejects, so an earlier failure stays the one reported; see throwIfFailed.
   */
  finish(): Promise<void> {
    this.finishing ??= (async () => {
      this.status.stop();
      await new Promise<void>((resolve) => this.writer.end(() => resolve()));
      if (this.writer.parser.header) await this.sink.finish(this.writer.parser.completeOffset);
      else await this.sink.discard().catch(() => {});
    })().catch((err: unknown) => {
      this.finishError = err;
    });
    return this.finishing;
  }

  /** Throws what finishing the output failed with, if anything. */
  throwIfFailed(): void {
    if (this.finishError !== undefined) throw asError(this.finishError);
  }

  /** The closing line: what was captured, and tcpdump's own counters. */
  summary(outcome: CaptureOutcome | undefined): void {
    if (!this.writer.parser.header) return;
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    const st = outcome?.stats;
    const kernel = st
      ? `; tcpdump: ${st.captured ?? '?'} captured, ${st.receivedByFilter ?? '?'} received by filter, ${st.droppedByKernel ?? '?'} dropped by kernel`
      : '';
    info(
      `captured ${this.writer.parser.packets} packets (${formatBytes(this.writer.parser.streamBytes)}) in ${secs}s to ${this.sink.description}${kernel}`,
    );
  }
}
