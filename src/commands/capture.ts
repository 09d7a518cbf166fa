// `kubectl netns capture TARGET`: tcpdump inside the pod's network namespace, streamed back as pcap
// to a file, stdout or Wireshark. Validate (pure), then plan the sink before any pod exists, then
// act: debug pod, PID, capture; the `finally` stops tcpdump, closes the sink and deletes the pod.
import type { Argv } from 'yargs';
import { ExitCode, usageError, UserError } from '../errors.ts';
import { info, warn, debug } from '../log.ts';
import { runContext, type GlobalArgs } from '../cli/global.ts';
import { defaultRunner, type CommandRunner } from '../cli/runner.ts';
import { parseDuration, parsePositiveInt } from '../cli/parse.ts';
import { exitCodeForSignal, receivedSignal, shutdownSignal, trackLeftover } from '../cli/signals.ts';
import { parseTarget, resolveTarget } from '../kube/target.ts';
import { ackArgv, captureArgv, isInterfaceName, parseAgentInfo, parseCaptureInfo, parseTcpdumpStatsLine, statsArgv, stopArgv, type TcpdumpStats } from '../node/agent.ts';
import { agentFailure, LineCollector } from '../node/agent-errors.ts';
import { CaptureWriter } from '../output/capture-writer.ts';
import { assertNotTerminal, fileSink, stdoutSink, type CaptureSink } from '../output/sink.ts';
import { formatBytes, StatusLine } from '../output/status-line.ts';
import { wiresharkSink, findWireshark } from '../output/wireshark.ts';
import { openTargetSession, lookupPid } from './session-helpers.ts';
import { randomId } from '../kube/session.ts';
import { Writable } from 'node:stream';

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

/** tcpdump's "listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes". */
const TCPDUMP_LISTENING = /listening on (\S+), (link-type \S+)/;

/** Checks the flags and decides what to do, without touching the cluster. Pure. */
export function planCapture(a: CaptureArgs, now: Date = new Date()): CapturePlan {
  const words = (a['--'] ?? []).map(String);
  if (a.filter !== undefined && words.length > 0) {
    throw usageError('give the filter either with --filter or after --, not both');
  }
  const filter = a.filter !== undefined ? [a.filter] : words;
  if (!isInterfaceName(a.interface)) throw usageError(`invalid interface name "${a.interface}" for --interface`);
  if (a['host-side'] && a.interface === 'any') throw usageError('--host-side needs one interface of the pod, not any', 'leave -i at auto (the pod\'s main interface) or name it, e.g. -i eth0');
  if (a.wireshark && a.output !== undefined) throw usageError('--wireshark and --output are mutually exclusive', 'Wireshark reads the packets itself; use one of them');
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
export function defaultFileName(target: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${target.replace(/^.*\//, '')}-${stamp}.pcap`;
}

export function registerCapture(y: Argv<GlobalArgs>, run: CommandRunner = defaultRunner): Argv<GlobalArgs> {
  return y.command(
    'capture <target>',
    "Capture packets in a pod's network namespace (pcap to a file, stdout or Wireshark)",
    (c) =>
      c
        .positional('target', { type: 'string', demandOption: true, describe: 'POD, pod/NAME, deploy/NAME, sts/NAME, ds/NAME, rs/NAME or job/NAME' })
        .option('container', { alias: 'c', type: 'string', describe: 'Container whose network namespace to use (default: the default container, else the first)' })
        .option('filter', { alias: 'f', type: 'string', describe: "tcpdump filter expression, e.g. 'tcp port 80' (or give the words after --)" })
        .option('interface', {
          alias: 'i',
          type: 'string',
          default: 'auto',
          describe: "Interface in the pod: auto = the default route's interface (Ethernet link type, readable by every Wireshark); any = all interfaces incl. lo (LINUX_SLL2)",
        })
        .option('snaplen', { alias: 's', type: 'number', describe: 'Bytes to keep per packet (default: tcpdump\'s 262144, i.e. whole packets)' })
        .option('count', { type: 'number', describe: 'Stop after this many packets' })
        .option('duration', { type: 'string', describe: 'Stop after this long, e.g. 30s, 5m (also bounds the debug pod\'s lifetime)' })
        .option('output', { alias: 'o', type: 'string', describe: 'Write pcap to FILE, or - for stdout (refused on a terminal). Default: TARGET-TIME.pcap' })
        .option('wireshark', { type: 'boolean', default: false, describe: 'Start Wireshark and stream packets into it live' })
        .option('host-side', {
          type: 'boolean',
          default: false,
          describe: "Capture on the node's end of the pod's veth (-i names the pod's interface), e.g. to see what leaves the pod before the node's firewall",
        })
        .option('buffer-size', {
          type: 'number',
          default: 32,
          describe: 'Kernel capture buffer in MiB (tcpdump -B); raise it if the summary reports packets dropped by kernel',
        })
        .example('$0 capture web-7d9 -o web.pcap', 'all traffic of pod web-7d9 into web.pcap')
        .example('$0 capture deploy/web -n shop -- tcp port 8080', 'one pod of deployment web, port 8080 only')
        .example('$0 capture web-7d9 -o - | wireshark -k -i -', 'live into Wireshark through a pipe')
        .example('$0 capture web-7d9 --count 100 --duration 30s', 'stop after 100 packets or 30 seconds'),
    async (argv) => {
      process.exitCode = await run('capture', argv as unknown as Record<string, unknown>);
    },
  ) as unknown as Argv<GlobalArgs>;
}

function openSink(plan: OutputPlan): Promise<CaptureSink> | CaptureSink {
  if (plan.kind === 'stdout') return stdoutSink();
  if (plan.kind === 'wireshark') return wiresharkSink(findWireshark());
  return fileSink(plan.path);
}

/** A stdout for agent ops whose output we do not need. */
function discard(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() });
}

export async function runCapture(a: CaptureArgs): Promise<number> {
  const plan = planCapture(a);
  if (plan.output.kind === 'stdout') assertNotTerminal(process.stdout.isTTY); // before any API call
  if (plan.output.kind === 'wireshark') findWireshark();
  const ctx = runContext(a);
  const ref = parseTarget(a.target);
  const target = await resolveTarget(ctx.client, ref, ctx.cfg.namespace, a.container);
  if (target.via) info(`${target.via}: using pod ${target.pod}`);
  for (const w of target.warnings) warn(w);
  if (plan.hostSide && target.hostNetwork) {
    throw new UserError(`pod "${target.pod}" uses hostNetwork: it has no veth whose host side could be captured`, { exitCode: ExitCode.targetState, hint: 'capture without --host-side' });
  }

  const sink = await openSink(plan.output);
  const writer = new CaptureWriter(sink.stream);
  const status = new StatusLine(process.stderr, a.quiet !== true);
  const stderrLines = new LineCollector();
  let session: Awaited<ReturnType<typeof openTargetSession>> | undefined;
  let untrack = () => {};
  let exitCode: number = ExitCode.ok;
  let failure: unknown;
  let stopRequested = false;
  let sinkGone = false;
  let lastStats: Partial<TcpdumpStats> | undefined;
  let iface: string | undefined;
  const started = Date.now();
  try {
    session = await openTargetSession(ctx, target, {
      durationSeconds: plan.durationSeconds,
      hostNetwork: plan.hostSide,
      onCreated: (s) => (untrack = trackLeftover(s.podName, `debug pod ${s.namespace}/${s.podName}`)),
    });
    const s = session;
    const { pid } = await lookupPid(s, target);
    const captureId = randomId(4);
    // The agent stays after tcpdump ends until we have every packet tcpdump counted, because
    // Kubernetes drops stdout still in flight when the exec'd command exits (kubernetes#124571):
    // with a slow reader that would be the capture's tail.
    let acked = false;
    const ack = () => {
      if (acked) return;
      acked = true;
      void s.exec(ackArgv(captureId), { stdout: discard() }).catch((err: unknown) => debug(`ack failed: ${String(err)}`));
    };
    const awaitDelivery = () => {
      let last = -1;
      let idle = 0;
      const timer = setInterval(() => {
        const have = writer.parser.packets;
        const want = lastStats?.captured;
        if (want === undefined || have >= want || sinkGone) {
          clearInterval(timer);
          ack();
        } else if (have === last && ++idle >= 100) {
          clearInterval(timer);
          warn(`${want - have} of the ${want} packets tcpdump captured did not arrive`);
          ack();
        } else if (have !== last) {
          last = have;
          idle = 0;
        }
      }, 100);
    };
    const stderrSink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const line of stderrLines.push(chunk.toString('utf8'))) {
          debug(`node: ${line}`);
          const chosen = parseCaptureInfo(line);
          if (chosen) iface = chosen.iface;
          const st = parseTcpdumpStatsLine(line);
          if (st) lastStats = { ...lastStats, ...st };
          // Announce only once tcpdump listens: traffic sent before that is not in the capture,
          // and people start their reproduction when they see this line.
          if (parseAgentInfo(line)?.startsWith('capture finished')) awaitDelivery();
          const listening = TCPDUMP_LISTENING.exec(line);
          if (listening) {
            info(`capturing on ${iface ?? listening[1]} in ${target.namespace}/${target.pod} (node ${target.node}, ${listening[2]}) to ${sink.description}; Ctrl-C to stop`);
          }
        }
        cb();
      },
    });
    const capture = s.exec(
      captureArgv({
        pid,
        iface: plan.iface,
        snaplen: plan.snaplen,
        count: plan.count,
        durationSeconds: plan.durationSeconds === undefined ? undefined : Math.ceil(plan.durationSeconds),
        bufferKiB: plan.bufferKiB,
        id: captureId,
        awaitAck: true,
        hostSide: plan.hostSide,
        filter: plan.filter,
      }),
      { stdout: writer, stderr: stderrSink },
    );
    status.start(() => ({ packets: writer.parser.packets, bytes: writer.parser.streamBytes, elapsedMs: Date.now() - started, droppedByKernel: lastStats?.droppedByKernel }));

    // Stopping = asking tcpdump to finish (SIGINT), so the last packet is written whole and its
    // statistics arrive; the exec stream then ends by itself.
    const stop = (why: string) => {
      if (stopRequested || s.closed) return;
      stopRequested = true;
      debug(`stopping capture: ${why}`);
      void s.exec(stopArgv(captureId), { stdout: discard() }).catch((err: unknown) => debug(`stop failed: ${String(err)}`));
    };
    const onSignal = () => stop('signal');
    shutdownSignal.addEventListener('abort', onSignal, { once: true });
    void sink.gone.then(() => {
      sinkGone = true;
      stop('the reader went away');
    });
    // Live kernel-drop counts: tcpdump prints its counters on SIGUSR1.
    const statsTimer = status.enabledFor(() =>
      setInterval(() => {
        void s.exec(statsArgv(captureId), { stdout: discard() }).catch(() => {});
      }, 2000),
    );
    try {
      const result = await capture;
      if (result.exitCode !== 0 && !(stopRequested && result.exitCode === 130)) {
        throw agentFailure(result.exitCode, stderrLines.all(), 'capture');
      }
    } finally {
      if (statsTimer) clearInterval(statsTimer);
      shutdownSignal.removeEventListener('abort', onSignal);
    }
  } catch (err) {
    failure = err;
  } finally {
    status.stop();
    await new Promise<void>((resolve) => writer.end(() => resolve()));
    const packets = writer.parser.packets;
    if (writer.parser.header) await sink.finish(writer.parser.completeOffset).catch((e: unknown) => (failure ??= e));
    else await sink.discard().catch(() => {});
    if (session) {
      await session.close().catch((e: unknown) => warn(`could not delete debug pod ${session?.namespace}/${session?.podName}: ${String((e as Error).message)}; run kubectl netns cleanup`));
    }
    untrack();
    if (writer.parser.header) {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      const st = lastStats;
      const kernel = st ? `; tcpdump: ${st.captured ?? '?'} captured, ${st.receivedByFilter ?? '?'} received by filter, ${st.droppedByKernel ?? '?'} dropped by kernel` : '';
      info(`captured ${packets} packets (${formatBytes(writer.parser.streamBytes)}) in ${secs}s to ${sink.description}${kernel}`);
    }
  }
  if (failure) throw failure;
  const sig = receivedSignal();
  if (sig) exitCode = exitCodeForSignal(sig);
  return exitCode;
}

