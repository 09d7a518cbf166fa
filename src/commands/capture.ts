// `kubectl netns capture TARGET`: tcpdump inside the pod's network namespace, streamed back as pcap
// to a file, stdout or Wireshark. Reads top to bottom: plan (pure) → resolve the target → open the
// output → debug pod → remote capture pumped into the output → finish the output → summary.
import { defineCommand } from '../cli/command.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { withContainer, withTarget } from '../cli/options.ts';
import { parseDuration, parsePositiveInt } from '../cli/parse.ts';
import { exitCodeForSignal, receivedSignal } from '../cli/signals.ts';
import { ExitCode, usageError, UserError } from '../errors.ts';
import { info } from '../log.ts';
import { withDebugPod } from '../kube/with-debug-pod.ts';
import { isInterfaceName } from '../node/agent.ts';
import { lookupPid } from '../node/agent-ops.ts';
import { RemoteCapture, type CaptureOutcome } from '../node/remote-capture.ts';
import { CaptureOutput } from '../output/capture-output.ts';
import { assertNotTerminal, fileSink, stdoutSink, type CaptureSink } from '../output/sink.ts';
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
  overwrite: boolean;
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
  /** Replace an existing output file (--overwrite / --force). */
  overwrite: boolean;
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
    overwrite: a.overwrite === true,
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
  usage: 'capture (POD | TYPE/NAME) [-w FILE] [flags] [-- FILTER...]',
  examples: [
    ['All traffic of pod web-7d9, into web.pcap', 'capture web-7d9 -w web.pcap'],
    ['One pod of deployment web in namespace shop, port 8080 only', 'capture deploy/web -n shop -- tcp port 8080'],
    ['Live into Wireshark', 'capture web-7d9 --wireshark'],
    ['Through a pipe, into any pcap reader', 'capture web-7d9 -w - | tcpdump -nr -'],
    ['Stop after 100 packets or 30 seconds, whichever comes first', 'capture web-7d9 --count 100 --duration 30s'],
    [
      'Debug pod in its own namespace, so that shop can stay "restricted"',
      'capture web-7d9 -n shop --debug-namespace kubectl-netns-debug',
    ],
  ],
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
      // tcpdump's -w, and kubectl users' -o: capture has one format (pcap), so -o names the file.
      .option('output', {
        alias: ['w', 'o'],
        type: 'string',
        describe: 'Write the capture to FILE, or - for stdout (refused on a terminal). Default: TARGET-TIME.pcap',
      })
      .option('overwrite', {
        alias: 'force',
        type: 'boolean',
        default: false,
        describe: 'Replace the output file if it exists (without this, an existing file is an error)',
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
      }),
  run: runCapture,
});

/** Opens where the pcap bytes go; WIRESHARK is the executable found up front. */
function openSink(plan: CapturePlan, wireshark: string | undefined): Promise<CaptureSink> | CaptureSink {
  const out = plan.output;
  if (out.kind === 'stdout') return stdoutSink();
  if (out.kind === 'wireshark') return wiresharkSink(wireshark ?? findWireshark());
  return fileSink(out.path, { overwrite: plan.overwrite });
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

  const output = new CaptureOutput(await openSink(plan, wireshark), a.quiet !== true);
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
